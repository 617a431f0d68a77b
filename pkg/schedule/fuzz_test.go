package schedule_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/schedule"
)

// fuzzZones are the zones FuzzParse evaluates expressions in.
var fuzzZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"}

// FuzzParse checks that Parse never panics, that its errors are
// *ExpressionError, and that an accepted expression's slots strictly
// increase (or run out) for 50 steps from an arbitrary start.
// Seeds: the expressions below plus testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"rate(5 minutes)", "rate(1 hour)", "rate(2 days)", "cron(0 12 * * ? *)", "cron(0/15 * * * ? *)",
		"cron(*/5 9-17 ? * MON-FRI *)", "cron(30 2 * * ? *)", "cron(0 0 29 2 ? *)", "cron(0 12 * * * *)",
		"cron(0 0 L * ? *)", "cron(0 0 ? * 3#2 *)", "at(2026-03-08T02:30:00)", "at(2026-11-01T01:30:00)",
	} {
		f.Add(s, uint8(1), int64(1772000000))
	}
	zones := make([]*time.Location, len(fuzzZones))
	for i, name := range fuzzZones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			f.Fatal(err)
		}
		zones[i] = loc
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, start int64) {
		e, err := schedule.Parse(expr, zones[int(zone)%len(zones)])
		if err != nil {
			var xerr *schedule.ExpressionError
			if !errors.As(err, &xerr) || !errors.Is(err, schedule.ErrInvalidExpression) {
				t.Fatalf("Parse error is not an *ExpressionError: %v", err)
			}
			_ = err.Error()
			return
		}
		if e.String() != expr {
			t.Fatalf("String() = %q, want %q", e.String(), expr)
		}
		// Start anywhere from 1900 to 2300.
		const lo, span = -2208988800, 12623040000
		at := time.Unix(lo+(start%span+span)%span, 0)
		for range 50 {
			next := e.Next(at)
			if next.IsZero() {
				return
			}
			if !next.After(at) {
				t.Fatalf("%s: Next(%s) = %s is not after it", expr, at, next)
			}
			at = next
		}
	})
}
