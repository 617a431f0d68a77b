package schedule_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/schedule"
)

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(2 days)",
		"rate(  5   minutes )",
		"cron(0 12 * * ? *)", "cron(0/15 * * * ? *)", "cron(*/5 9-17 ? * MON-FRI *)",
		"cron(0 6 1,15 JAN-MAR,DEC ? 2026-2030)", "cron(30 2 ? * 1,7 *)", "cron(0 0 ? * SUN-SAT/2 *)",
		"cron(59 23 31 12 ? 2199)", "cron(0 0 1 1 ? 1970)", "cron(05 0 * * ? */10)", "cron(0 8-18/2 ? * 2-6 *)",
		"at(2026-03-01T09:30:00)", "at(2199-12-31T23:59:59)",
	} {
		t.Run(expr, func(t *testing.T) {
			t.Parallel()
			e, err := schedule.Parse(expr, nil)
			require.NoError(t, err)
			require.Equal(t, expr, e.String())
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, want  string
		unsupported bool
	}{
		{"", `"": want rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)`, false},
		{"every 5 minutes", "every 5 minutes: want rate(value unit), cron(", false},
		{"RATE(5 minutes)", "RATE(5 minutes): want rate(value unit)", false},
		{" rate(5 minutes)", `" rate(5 minutes)": want rate(value unit)`, false},
		{"rate(5 minutes", "rate(5 minutes: want rate(value unit)", false},
		{"rate(5)", "rate(5): want rate(value unit), e.g. rate(5 minutes), rate(1 hour) or rate(2 days)", false},
		{"rate(0 minutes)", `rate(0 minutes): value: must be a whole number of at least 1, got "0"`, false},
		{"rate(-1 minutes)", `rate(-1 minutes): value: must be a whole number of at least 1, got "-1"`, false},
		{"rate(+5 minutes)", `rate(+5 minutes): value: must be a whole number of at least 1, got "+5"`, false},
		{"rate(1.5 hours)", `rate(1.5 hours): value: must be a whole number of at least 1, got "1.5"`, false},
		{"rate(1 minutes)", `rate(1 minutes): unit: must be singular ("minute") when the value is 1`, false},
		{"rate(1 days)", `rate(1 days): unit: must be singular ("day") when the value is 1`, false},
		{"rate(5 minute)", `rate(5 minute): unit: must be plural ("minutes") when the value is greater than 1`, false},
		{"rate(2 weeks)", `rate(2 weeks): unit: must be minute(s), hour(s) or day(s), got "weeks"`, false},
		{"rate(5 Minutes)", `rate(5 Minutes): unit: must be minute(s), hour(s) or day(s), got "Minutes"`, false},
		{"rate(36501 days)", "rate(36501 days): value: 36501 days is longer than 100 years", false},
		{"rate(99999999999999999999 days)", `value: must be a whole number of at least 1, got "99999999999999999999"`, false},
		{"cron(0 12 * * ?)", "cron(0 12 * * ?): has 5 fields; cron needs 6: minutes hours day-of-month month day-of-week year", false},
		{"cron(0 0 12 * * ? *)", "has 7 fields", false},
		{"cron(0 12 * * * *)", `cron(0 12 * * * *): day-of-month and day-of-week: one of them must be "?"`, false},
		{"cron(0 12 ? * ? *)", `cron(0 12 ? * ? *): day-of-month and day-of-week: only one of them may be "?"`, false},
		{"cron(60 12 * * ? *)", "cron(60 12 * * ? *): minutes: 60 is out of range 0-59", false},
		{"cron(0 24 * * ? *)", "hours: 24 is out of range 0-23", false},
		{"cron(0 0 0 * ? *)", "day-of-month: 0 is out of range 1-31", false},
		{"cron(0 0 32 * ? *)", "day-of-month: 32 is out of range 1-31", false},
		{"cron(0 0 * 13 ? *)", "month: 13 is out of range 1-12", false},
		{"cron(0 0 ? * 0 *)", "day-of-week: 0 is out of range 1-7", false},
		{"cron(0 0 ? * 8 *)", "day-of-week: 8 is out of range 1-7", false},
		{"cron(0 0 * * ? 1969)", "year: 1969 is out of range 1970-2199", false},
		{"cron(0 0 * * ? 2200)", "year: 2200 is out of range 1970-2199", false},
		{"cron(? 0 * * ? *)", `minutes: "?" is allowed only in day-of-month and day-of-week`, false},
		{"cron(0 0 * JANUARY ? *)", `month: "JANUARY" is not a number 1-12 or a name JAN-DEC`, false},
		{"cron(0 0 * jan ? *)", `month: "jan": write names in upper case (JAN)`, false},
		{"cron(0 0 ? * mon *)", `day-of-week: "mon": write names in upper case (MON)`, false},
		{"cron(0 0 MON * ? *)", `day-of-month: "MON" is not a number 1-31`, false},
		{"cron(x 0 * * ? *)", `minutes: "x" is not a number 0-59`, false},
		{"cron(0 0 ? * MON-FRI-SAT *)", `day-of-week: "FRI-SAT" is not a number 1-7 or a name SUN-SAT`, false},
		{"cron(0 22-2 * * ? *)", "hours: range 22-2 runs backwards; write it as 22-23,0-2", false},
		{"cron(0 0 ? * FRI-MON *)", "day-of-week: range FRI-MON runs backwards; write it as FRI-SAT,SUN-MON", false},
		{"cron(0/0 0 * * ? *)", "minutes: step must be between 1 and 60, got 0", false},
		{"cron(0/61 0 * * ? *)", "minutes: step must be between 1 and 60, got 61", false},
		{"cron(0/x 0 * * ? *)", `minutes: step "x" is not a number`, false},
		{"cron(1,,2 0 * * ? *)", "minutes: empty list item", false},
		{"cron(-5 0 * * ? *)", "minutes: missing value", false},
		{"cron(0 0 L * ? *)", `cron(0 0 L * ? *): day-of-month: "L" (the last day) is not supported; list the days instead`, true},
		{"cron(0 0 15W * ? *)", `day-of-month: "W" (the nearest weekday) is not supported`, true},
		{"cron(0 0 LW * ? *)", `day-of-month: "W" (the nearest weekday) is not supported`, true},
		{"cron(0 0 ? * 6L *)", `day-of-week: "L" (the last day) is not supported`, true},
		{"cron(0 0 ? * 2,FRIL *)", `day-of-week: "L" (the last day) is not supported`, true},
		{"cron(0 0 ? * 3#2 *)", `day-of-week: "#" (the nth weekday of the month) is not supported`, true},
		{"cron(0 L * * ? *)", `hours: "L" is not a number 0-23`, false},
		{"at(2026-03-01 09:30:00)", `at(2026-03-01 09:30:00): "2026-03-01 09:30:00" is not a date and time of the form yyyy-mm-ddThh:mm:ss`, false},
		{"at(2026-02-30T09:30:00)", `"2026-02-30T09:30:00" is not a date and time`, false},
		{"at(2026-03-01T09:30)", "at(2026-03-01T09:30): want at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-03-01T09:30:00)", false},
		{"at(2026-03-01T09:30:00Z)", "want at(yyyy-mm-ddThh:mm:ss)", false},
		{"at(1969-12-31T23:59:59)", "year must be between 1970 and 2199, got 1969", false},
		{"cron(" + strings.Repeat("1,", 200) + "1 * * * ? *)", "is 417 characters long; at most 256 are allowed", false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			e, err := schedule.Parse(tc.expr, nil)
			require.Nil(t, e)
			require.ErrorContains(t, err, tc.want)
			require.ErrorIs(t, err, schedule.ErrInvalidExpression)
			require.Equal(t, tc.unsupported, errors.Is(err, schedule.ErrUnsupported))
			var xerr *schedule.ExpressionError
			require.ErrorAs(t, err, &xerr)
			require.Equal(t, tc.expr, xerr.Expr)
		})
	}
}

func TestParseAtInDaylightSavingGap(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	_, err := schedule.Parse("at(2026-03-08T02:30:00)", ny)
	require.EqualError(t, err, "at(2026-03-08T02:30:00): 2026-03-08T02:30:00 does not exist in America/New_York: the clocks skip it")

	// The repeated hour resolves to its first occurrence (EDT).
	e, err := schedule.Parse("at(2026-11-01T01:30:00)", ny)
	require.NoError(t, err)
	require.Equal(t, "2026-11-01T05:30:00Z", e.Next(time.Time{}).UTC().Format(time.RFC3339))
}

func newYork(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	return loc
}
