package schedule_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tasker-go/tasker/pkg/schedule"
)

func ExampleParse() {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	e, err := schedule.Parse("cron(0 6 ? * MON-FRI *)", berlin)
	if err != nil {
		panic(err)
	}
	after := time.Date(2026, time.March, 27, 12, 0, 0, 0, time.UTC) // a Friday
	for _, slot := range schedule.Slots(e, after, after.Add(7*24*time.Hour), 3) {
		fmt.Println(slot.Format(time.RFC3339), schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.0", "weekdays", slot))
	}

	_, err = schedule.Parse("cron(0 12 * * * *)", nil)
	fmt.Println(err)
	// Output:
	// 2026-03-30T06:00:00+02:00 schedule:scheduled_jobs/daily_reporting:1.0:weekdays:2026-03-30T04:00:00Z
	// 2026-03-31T06:00:00+02:00 schedule:scheduled_jobs/daily_reporting:1.0:weekdays:2026-03-31T04:00:00Z
	// 2026-04-01T06:00:00+02:00 schedule:scheduled_jobs/daily_reporting:1.0:weekdays:2026-04-01T04:00:00Z
	// cron(0 12 * * * *): day-of-month and day-of-week: one of them must be "?"
}

func ExampleRunner() {
	e, _ := schedule.Parse("rate(1 hour)", nil)
	now := time.Date(2026, time.January, 1, 9, 30, 0, 0, time.UTC)
	r := &schedule.Runner{
		Entries: []schedule.Entry{{
			TemplateNamespace: "scheduled_jobs", TemplateName: "daily_reporting", TemplateVersion: "1.0",
			Name: "hourly", Expr: e, Context: []byte(`{}`), Enabled: true,
		}},
		// In `tasker dev` Fire creates the task through the engine, treating
		// a duplicate task as already fired.
		Fire: func(_ context.Context, e schedule.Entry, slot time.Time, key string) error {
			fmt.Println("create", e.TemplateKey(), "at", slot.Format(time.RFC3339), "key", key)
			return nil
		},
		Clock: func() time.Time { return now },
	}
	ctx := context.Background()
	_ = r.Tick(ctx) // the first tick notes the time
	now = now.Add(time.Hour)
	_ = r.Tick(ctx)
	// Output:
	// create scheduled_jobs/daily_reporting:1.0 at 2026-01-01T10:00:00Z key schedule:scheduled_jobs/daily_reporting:1.0:hourly:2026-01-01T10:00:00Z
}
