package schedule_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/schedule"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// nextN returns the first n slots after after, as RFC 3339 in UTC.
func nextN(t *testing.T, e schedule.Expression, after time.Time, n int) []string {
	t.Helper()
	var out []string
	for range n {
		next := e.Next(after)
		if next.IsZero() {
			break
		}
		require.True(t, next.After(after), "Next(%s) = %s is not after it", after, next)
		out = append(out, next.UTC().Format(time.RFC3339))
		after = next
	}
	return out
}

func TestNextUTC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, after string
		want              []string
		// exhausted says no slot follows want.
		exhausted bool
	}{
		{"noon daily", "cron(0 12 * * ? *)", "2026-01-01T11:59:59Z",
			[]string{"2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z"}, false},
		{"strictly after a slot", "cron(0 12 * * ? *)", "2026-01-01T12:00:00Z",
			[]string{"2026-01-02T12:00:00Z"}, false},
		{"seconds past a slot", "cron(0 12 * * ? *)", "2026-01-01T12:00:30Z",
			[]string{"2026-01-02T12:00:00Z"}, false},
		{"every 15 minutes across the hour", "cron(0/15 * * * ? *)", "2026-01-01T10:40:00Z",
			[]string{"2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z", "2026-01-01T11:15:00Z"}, false},
		{"offset start with a step", "cron(5/20 * * * ? *)", "2026-01-01T10:50:00Z",
			[]string{"2026-01-01T11:05:00Z", "2026-01-01T11:25:00Z", "2026-01-01T11:45:00Z", "2026-01-01T12:05:00Z"}, false},
		{"month end to next month", "cron(0 0 1 * ? *)", "2026-01-31T23:59:00Z",
			[]string{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"}, false},
		{"year end", "cron(59 23 31 12 ? *)", "2026-06-01T00:00:00Z",
			[]string{"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"}, false},
		{"day 31 skips short months", "cron(0 9 31 * ? *)", "2026-01-31T10:00:00Z",
			[]string{"2026-03-31T09:00:00Z", "2026-05-31T09:00:00Z", "2026-07-31T09:00:00Z", "2026-08-31T09:00:00Z"}, false},
		{"Feb 29 only in leap years", "cron(0 0 29 2 ? *)", "2025-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}, false},
		{"2100 is not a leap year", "cron(0 0 29 FEB ? 2096-2104)", "2096-03-01T00:00:00Z",
			[]string{"2104-02-29T00:00:00Z"}, true},
		{"1 is Sunday", "cron(0 10 ? * 1 *)", "2026-01-01T00:00:00Z", // 2026-01-01 is a Thursday
			[]string{"2026-01-04T10:00:00Z", "2026-01-11T10:00:00Z"}, false},
		{"7 is Saturday", "cron(0 10 ? * 7 *)", "2026-01-01T00:00:00Z",
			[]string{"2026-01-03T10:00:00Z", "2026-01-10T10:00:00Z"}, false},
		{"weekdays by name", "cron(0 8 ? * MON-FRI *)", "2026-01-02T09:00:00Z", // a Friday
			[]string{"2026-01-05T08:00:00Z", "2026-01-06T08:00:00Z", "2026-01-07T08:00:00Z", "2026-01-08T08:00:00Z", "2026-01-09T08:00:00Z", "2026-01-12T08:00:00Z"}, false},
		{"2-6 is MON-FRI", "cron(0 8 ? * 2-6 *)", "2026-01-02T09:00:00Z",
			[]string{"2026-01-05T08:00:00Z", "2026-01-06T08:00:00Z", "2026-01-07T08:00:00Z", "2026-01-08T08:00:00Z", "2026-01-09T08:00:00Z", "2026-01-12T08:00:00Z"}, false},
		{"weekend mixes numbers and names", "cron(0 0 ? * 1,SAT *)", "2026-01-01T00:00:00Z",
			[]string{"2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-10T00:00:00Z"}, false},
		{"months by name", "cron(0 0 1 JAN,JUL ? *)", "2026-02-01T00:00:00Z",
			[]string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}, false},
		{"hour range with step", "cron(0 8-18/4 * * ? *)", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T08:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T16:00:00Z", "2026-01-02T08:00:00Z"}, false},
		{"years run out", "cron(0 0 1 1 ? 2027-2028)", "2026-06-01T00:00:00Z",
			[]string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}, true},
		{"last possible slot", "cron(59 23 31 12 ? 2199)", "2199-12-31T23:58:00Z",
			[]string{"2199-12-31T23:59:00Z"}, true},
		{"never: Feb 30", "cron(0 0 30 2 ? *)", "2026-01-01T00:00:00Z", nil, true},
		{"before 1970", "cron(0 0 1 1 ? *)", "1900-06-01T00:00:00Z",
			[]string{"1970-01-01T00:00:00Z", "1971-01-01T00:00:00Z"}, false},
		{"at once", "at(2026-03-01T09:30:15)", "2026-01-01T00:00:00Z",
			[]string{"2026-03-01T09:30:15Z"}, true},
		{"at past", "at(2026-03-01T09:30:00)", "2026-03-01T09:30:00Z", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := schedule.Parse(tc.expr, time.UTC)
			require.NoError(t, err)
			got := nextN(t, e, utc(tc.after), len(tc.want)+1)
			if !tc.exhausted {
				require.Len(t, got, len(tc.want)+1, "more slots follow")
				got = got[:len(tc.want)]
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestNextInTimeZone(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// 2026 in New York: clocks skip 02:00-02:59 on March 8 and repeat
	// 01:00-01:59 on November 1.
	tests := []struct {
		name, expr string
		loc        *time.Location
		after      string
		want       []string
	}{
		{"06:00 local follows the offset", "cron(0 6 * * ? *)", ny, "2026-03-06T12:00:00Z",
			[]string{"2026-03-07T11:00:00Z", "2026-03-08T10:00:00Z", "2026-03-09T10:00:00Z"}},
		{"a skipped wall time does not fire", "cron(30 2 * * ? *)", ny, "2026-03-07T00:00:00Z",
			[]string{"2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"}},
		{"a repeated wall time fires once, first", "cron(30 1 * * ? *)", ny, "2026-10-31T00:00:00Z",
			[]string{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"half-hourly across the spring gap", "cron(0/30 * * * ? *)", ny, "2026-03-08T06:15:00Z",
			[]string{"2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"}},
		{"half-hourly across the autumn repeat", "cron(0/30 * * * ? *)", ny, "2026-11-01T04:45:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z"}},
		{"starting inside the repeated hour", "cron(0/30 * * * ? *)", ny, "2026-11-01T06:10:00Z",
			[]string{"2026-11-01T07:00:00Z"}},
		{"day-of-week is the local day", "cron(0 23 ? * SUN *)", ny, "2026-01-01T00:00:00Z",
			[]string{"2026-01-05T04:00:00Z"}},
		{"month boundary is local", "cron(0 0 1 * ? *)", berlin, "2026-01-15T00:00:00Z",
			[]string{"2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z"}},
		{"year boundary is local", "cron(0 0 1 1 ? *)", berlin, "2026-06-01T00:00:00Z",
			[]string{"2026-12-31T23:00:00Z"}},
		{"at() is local", "at(2026-07-01T09:00:00)", berlin, "2026-01-01T00:00:00Z",
			[]string{"2026-07-01T07:00:00Z"}},
		{"rates ignore the zone", "rate(1 day)", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := schedule.Parse(tc.expr, tc.loc)
			require.NoError(t, err)
			require.Equal(t, tc.want, nextN(t, e, utc(tc.after), len(tc.want)))
			require.Equal(t, tc.loc, e.Next(utc(tc.after)).Location(), "slots are reported in the schedule's zone")
		})
	}
}

func TestRatesAreAnchoredAtTheEpoch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, after string
		want        []string
	}{
		{"rate(5 minutes)", "2026-01-01T00:03:17Z", []string{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"}},
		{"rate(5 minutes)", "2026-01-01T00:05:00Z", []string{"2026-01-01T00:10:00Z"}},
		{"rate(1 minute)", "2026-01-01T00:00:59.999Z", []string{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"}},
		{"rate(1 hour)", "2026-01-01T10:00:00Z", []string{"2026-01-01T11:00:00Z"}},
		{"rate(7 minutes)", "1970-01-01T00:00:00Z", []string{"1970-01-01T00:07:00Z", "1970-01-01T00:14:00Z"}},
		{"rate(1 hour)", "1969-12-31T22:30:00Z", []string{"1969-12-31T23:00:00Z", "1970-01-01T00:00:00Z"}},
		// 1970-01-01 was a Thursday, so weekly rates fall on Thursdays.
		{"rate(7 days)", "2026-01-01T00:00:00Z", []string{"2026-01-08T00:00:00Z", "2026-01-15T00:00:00Z"}},
		// 2026-01-01 is day 20454 after the epoch, an even day.
		{"rate(2 days)", "2026-01-01T00:00:00Z", []string{"2026-01-03T00:00:00Z", "2026-01-05T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" after "+tc.after, func(t *testing.T) {
			t.Parallel()
			e, err := schedule.Parse(tc.expr, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, nextN(t, e, utc(tc.after), len(tc.want)))
			// A second process parsing the same rate agrees on every slot.
			again, err := schedule.Parse(tc.expr, nil)
			require.NoError(t, err)
			require.Equal(t, e.Next(utc(tc.after)), again.Next(utc(tc.after)))
		})
	}
}
