package template_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/schedule"
	"github.com/tasker-go/tasker/pkg/template"
)

// reportHeader is a template whose input_schema the schedule tests satisfy or violate.
const reportHeader = `namespace: reports
name: daily
version: "1.0"
input_schema:
  type: object
  required: [region]
  properties:
    region: {type: string, enum: [eu, us]}
    kinds: {type: array, items: {enum: [sales, stock]}}
    options: {type: object, properties: {limit: {type: integer, minimum: 1}}}
steps:
  - {name: build, handler: reports.build}
`

func withSchedules(schedules string) string { return reportHeader + "schedules:\n" + schedules }

func TestSchedulesLoad(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSchedules(`
  - name: nightly
    expression: cron(0 2 * * ? *)
    timezone: America/New_York
    description: Every night at two, New York time.
    context: {region: us, kinds: [sales]}
  - name: eu_hourly
    expression: rate(1 hour)
    context: {region: eu}
    enabled: false
`))
	require.Equal(t, []template.Schedule{
		{Name: "nightly", Expression: "cron(0 2 * * ? *)", Timezone: "America/New_York", Description: "Every night at two, New York time.",
			Context: map[string]any{"region": "us", "kinds": []any{"sales"}}, Enabled: true},
		{Name: "eu_hourly", Expression: "rate(1 hour)", Timezone: "UTC", Context: map[string]any{"region": "eu"}},
	}, tmpl.Schedules)

	entries, err := tmpl.ScheduleEntries()
	require.NoError(t, err)
	require.Len(t, entries, 2)
	nightly := entries[0]
	require.Equal(t, "reports/daily:1.0", nightly.TemplateKey())
	require.Equal(t, "nightly", nightly.Name)
	require.True(t, nightly.Enabled)
	require.JSONEq(t, `{"region": "us", "kinds": ["sales"]}`, string(nightly.Context))
	require.Equal(t, "cron(0 2 * * ? *)", nightly.Expr.String())
	slot := nightly.Expr.Next(time.Date(2026, time.July, 1, 0, 0, 0, 0, time.UTC))
	require.Equal(t, "2026-07-01T06:00:00Z", slot.UTC().Format(time.RFC3339), "read in New York time (EDT)")
	require.NoError(t, tmpl.ValidateContext(nightly.Context), "a schedule's context is a valid task context")
	require.False(t, entries[1].Enabled)
}

func TestSchedulesAbsentOrEmpty(t *testing.T) {
	t.Parallel()
	for _, src := range []string{reportHeader, reportHeader + "schedules: []\n", reportHeader + "schedules:\n"} {
		tmpl := mustParse(t, src)
		require.Nil(t, tmpl.Schedules)
		entries, err := tmpl.ScheduleEntries()
		require.NoError(t, err)
		require.Empty(t, entries)
	}
}

func TestScheduleContextDefaultsToEmpty(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, header+"schedules:\n  - {name: tick, expression: rate(1 minute), context: {}}\nsteps:\n"+oneStep)
	require.Nil(t, tmpl.Schedules[0].Context)
	entries, err := tmpl.ScheduleEntries()
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(entries[0].Context))
}

func TestScheduleRules(t *testing.T) {
	t.Parallel()
	const ok = "expression: rate(1 hour), context: {region: eu}"
	runRuleCases(t, []ruleCase{
		{"not a list", reportHeader + "schedules: {name: a}\n", []string{"schedules: must be a list, got mapping"}},
		{"item not a mapping", withSchedules("  - nightly\n"), []string{`schedules[0]: must be a mapping, got string "nightly"`}},
		{"name missing", withSchedules("  - {" + ok + "}\n"), []string{"schedules[0].name: required"}},
		{"name upper case", withSchedules("  - {name: Nightly, " + ok + "}\n"), []string{`schedules[0].name: "Nightly" must be 1 to 64 lower-case letters, digits, '_' or '-'`}},
		{"name too long", withSchedules("  - {name: " + strings.Repeat("a", 65) + ", " + ok + "}\n"), []string{"schedules[0].name: \"" + strings.Repeat("a", 40) + "…\" must be 1 to 64"}},
		{"duplicate name", withSchedules("  - {name: a, " + ok + "}\n  - {name: b, " + ok + "}\n  - {name: a, " + ok + "}\n"),
			[]string{`schedules[2].name: duplicate schedule name "a" (also schedules[0])`}},
		{"expression missing", withSchedules("  - {name: a, context: {region: eu}}\n"), []string{"schedules[0].expression: required"}},
		{"expression not a string", withSchedules("  - {name: a, expression: 5, context: {region: eu}}\n"), []string{"schedules[0].expression: must be a string, got integer 5"}},
		{"expression invalid", withSchedules("  - {name: a, expression: cron(0 12 * * * *), context: {region: eu}}\n"),
			[]string{`schedules[0].expression: cron(0 12 * * * *): day-of-month and day-of-week: one of them must be "?"`}},
		{"expression unsupported", withSchedules("  - {name: a, expression: cron(0 12 L * ? *), context: {region: eu}}\n"),
			[]string{`schedules[0].expression: cron(0 12 L * ? *): day-of-month: "L" (the last day) is not supported`}},
		{"rate unit", withSchedules("  - {name: a, expression: rate(1 hours), context: {region: eu}}\n"),
			[]string{`schedules[0].expression: rate(1 hours): unit: must be singular ("hour") when the value is 1`}},
		{"at in a daylight-saving gap", withSchedules("  - {name: a, expression: at(2026-03-29T02:30:00), timezone: Europe/Berlin, context: {region: eu}}\n"),
			[]string{"schedules[0].expression: at(2026-03-29T02:30:00): 2026-03-29T02:30:00 does not exist in Europe/Berlin: the clocks skip it"}},
		{"unknown time zone", withSchedules("  - {name: a, timezone: Mars/Olympus, " + ok + "}\n"),
			[]string{`schedules[0].timezone: unknown time zone "Mars/Olympus" (use an IANA name such as UTC or Europe/Berlin)`}},
		{"local time zone", withSchedules("  - {name: a, timezone: Local, " + ok + "}\n"),
			[]string{`schedules[0].timezone: "Local" is not an IANA time zone name (such as UTC or Europe/Berlin)`}},
		{"bad zone and bad expression both reported", withSchedules("  - {name: a, timezone: Nowhere, expression: rate(0 minutes), context: {region: eu}}\n"),
			[]string{`schedules[0].expression: rate(0 minutes): value: must be a whole number of at least 1, got "0"`, `schedules[0].timezone: unknown time zone "Nowhere"`}},
		{"enabled not a boolean", withSchedules("  - {name: a, enabled: 'yes', " + ok + "}\n"), []string{`schedules[0].enabled: must be true or false, got string "yes"`}},
		{"unknown key", withSchedules("  - {name: a, expresion: rate(1 hour), context: {region: eu}}\n"),
			[]string{`schedules[0].expresion: unknown key (did you mean "expression"?)`, "schedules[0].expression: required"}},
		{"context not a mapping", withSchedules("  - {name: a, expression: rate(1 hour), context: [eu]}\n"), []string{"schedules[0].context: must be a mapping, got sequence"}},
		{"context missing a required field", withSchedules("  - {name: a, expression: rate(1 hour), context: {kinds: [sales]}}\n"),
			[]string{"schedules[0].context.region: is required (input_schema)"}},
		{"context absent but required", withSchedules("  - {name: a, expression: rate(1 hour)}\n"),
			[]string{"schedules[0].context.region: is required (input_schema)"}},
		{"context field in a list", withSchedules("  - {name: a, expression: rate(1 hour), context: {region: eu, kinds: [sales, weather]}}\n"),
			[]string{"schedules[0].context.kinds[1]: must be one of 'sales', 'stock' (input_schema)"}},
		{"context nested field", withSchedules("  - {name: a, expression: rate(1 hour), context: {region: eu, options: {limit: 0}}}\n"),
			[]string{"schedules[0].context.options.limit: must be >= 1 but found 0 (input_schema)"}},
	})
}

func TestScheduleProblemsAreCollectedAndLocated(t *testing.T) {
	t.Parallel()
	verr := requireProblems(t, withSchedules(`
  - name: a
    expression: cron(0 12 * * * *)
    context: {region: eu}
  - oops
  - name: a
    expression: rate(1 hour)
    context: {region: asia}
`))
	var got []string
	for _, p := range verr.Problems {
		got = append(got, fmt.Sprintf("%s (line %d)", p.Path, p.Line))
	}
	require.Equal(t, []string{
		"schedules[0].expression (line 16)",
		"schedules[1] (line 18)",
		"schedules[2].context.region (line 21)",
		"schedules[2].name (line 19)",
	}, got, "a non-mapping item gets no context problem of its own")
}

func TestScheduleContextIsNotCheckedAgainstABrokenSchema(t *testing.T) {
	t.Parallel()
	verr := requireProblems(t, `namespace: a
name: b
version: "1.0"
input_schema: {type: object, properties: {n: {type: 12}}}
schedules:
  - {name: a, expression: rate(1 hour), context: {n: 1}}
steps:
  - {name: s, handler: s}
`)
	for _, p := range verr.Problems {
		require.NotContains(t, p.Path, "schedules", "only the schema is reported")
	}
}

func TestSchedulesSurviveJSON(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSchedules("  - {name: n, expression: 'cron(0 6 1,15 * ? *)', timezone: Asia/Tokyo, context: {region: eu}, enabled: false}\n"))
	data, err := json.Marshal(tmpl)
	require.NoError(t, err)
	var doc struct {
		Schedules []map[string]any `json:"schedules"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Equal(t, []map[string]any{{
		"name": "n", "expression": "cron(0 6 1,15 * ? *)", "timezone": "Asia/Tokyo", "context": map[string]any{"region": "eu"}, "enabled": false,
	}}, doc.Schedules)
	back, err := template.ParseJSON(data)
	require.NoError(t, err)
	require.Equal(t, tmpl, back)
}

func TestScheduleEntriesOnHandBuiltTemplate(t *testing.T) {
	t.Parallel()
	tmpl := &template.Template{Namespace: "a", Name: "b", Version: "1.0", Schedules: []template.Schedule{
		{Name: "bad", Expression: "rate(1 weeks)", Timezone: "UTC", Enabled: true},
	}}
	_, err := tmpl.ScheduleEntries()
	require.ErrorIs(t, err, schedule.ErrInvalidExpression)
	require.EqualError(t, err, `template a/b:1.0: schedule bad: rate(1 weeks): unit: must be minute(s), hour(s) or day(s), got "weeks"`)

	tmpl.Schedules[0] = template.Schedule{Name: "zone", Expression: "rate(1 hour)", Timezone: "Nowhere"}
	_, err = tmpl.ScheduleEntries()
	require.ErrorContains(t, err, `template a/b:1.0: schedule zone: timezone: unknown time zone "Nowhere"`)
}

func TestTooManySchedules(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 101 {
		fmt.Fprintf(&b, "  - {name: s%d, expression: rate(1 hour), context: {region: eu}}\n", i)
	}
	requireProblems(t, withSchedules(b.String()), "schedules: 101 schedules given; a template may have at most 100")
}

func TestDailyReportingSchedule(t *testing.T) {
	t.Parallel()
	tmpl, err := template.ParseFile(templatesDir + "/scheduled_jobs/daily_reporting.yaml")
	require.NoError(t, err)
	entries, err := tmpl.ScheduleEntries()
	require.NoError(t, err)
	require.Len(t, entries, 1)
	daily := entries[0]
	require.Equal(t, "daily", daily.Name)
	require.True(t, daily.Enabled)
	require.NoError(t, tmpl.ValidateContext(daily.Context))
	slots := schedule.Slots(daily.Expr, time.Date(2026, time.March, 28, 12, 0, 0, 0, time.UTC), time.Date(2026, time.March, 31, 0, 0, 0, 0, time.UTC), 5)
	var got []string
	for _, s := range slots {
		got = append(got, s.UTC().Format(time.RFC3339))
	}
	require.Equal(t, []string{"2026-03-29T06:00:00Z", "2026-03-30T06:00:00Z"}, got, "06:00 UTC whatever Europe's clocks do")
	require.Equal(t, "schedule:scheduled_jobs/daily_reporting:1.0:daily:2026-03-29T06:00:00Z", daily.IdempotencyKey(slots[0]))
}
