package schedule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/schedule"
)

func mustParse(t testing.TB, expr string, loc *time.Location) schedule.Expression {
	t.Helper()
	e, err := schedule.Parse(expr, loc)
	require.NoError(t, err)
	return e
}

func rfc3339(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.RFC3339)
	}
	return out
}

func TestSlots(t *testing.T) {
	t.Parallel()
	hourly := mustParse(t, "cron(0 * * * ? *)", nil)
	tests := []struct {
		name         string
		e            schedule.Expression
		after, until string
		max          int
		want         []string
	}{
		{"half-open interval", hourly, "2026-01-01T10:00:00Z", "2026-01-01T13:00:00Z", 10,
			[]string{"2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"}},
		{"capped by max, earliest first", hourly, "2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", 2,
			[]string{"2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"}},
		{"empty interval", hourly, "2026-01-01T10:00:00Z", "2026-01-01T10:59:59Z", 10, nil},
		{"until before after", hourly, "2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z", 10, nil},
		{"max zero", hourly, "2026-01-01T10:00:00Z", "2026-01-01T13:00:00Z", 0, nil},
		{"one-time", mustParse(t, "at(2026-01-01T12:30:00)", nil), "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 10,
			[]string{"2026-01-01T12:30:00Z"}},
		{"rate", mustParse(t, "rate(20 minutes)", nil), "2026-01-01T10:05:00Z", "2026-01-01T11:00:00Z", 10,
			[]string{"2026-01-01T10:20:00Z", "2026-01-01T10:40:00Z", "2026-01-01T11:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := schedule.Slots(tc.e, utc(tc.after), utc(tc.until), tc.max)
			if tc.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, rfc3339(got))
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	slot := utc("2026-01-01T06:00:00Z")
	const want = "schedule:scheduled_jobs/daily_reporting:1.0:daily:2026-01-01T06:00:00Z"
	require.Equal(t, want, schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.0", "daily", slot))

	// The same instant in another zone, or with sub-second noise, is the same slot key.
	ny := newYork(t)
	require.Equal(t, want, schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.0", "daily", slot.In(ny)))
	require.Equal(t, want, schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.0", "daily", slot.Add(300*time.Millisecond)))

	// Other slots, schedules and template versions get other keys.
	require.NotEqual(t, want, schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.0", "daily", slot.Add(24*time.Hour)))
	require.NotEqual(t, want, schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.0", "hourly", slot))
	require.NotEqual(t, want, schedule.IdempotencyKey("scheduled_jobs/daily_reporting:1.1", "daily", slot))

	// Keys the intake would refuse (over 255 characters) are hashed, stably.
	longKey := "ns/" + strings.Repeat("n", 255) + ":1.0.0"
	got := schedule.IdempotencyKey(longKey, "daily", slot)
	require.LessOrEqual(t, len(got), 255)
	require.Regexp(t, `^schedule:sha256:[0-9a-f]{64}:2026-01-01T06:00:00Z$`, got)
	require.Equal(t, got, schedule.IdempotencyKey(longKey, "daily", slot))
	require.NotEqual(t, got, schedule.IdempotencyKey(longKey, "nightly", slot))

	entry := schedule.Entry{TemplateNamespace: "scheduled_jobs", TemplateName: "daily_reporting", TemplateVersion: "1.0", Name: "daily"}
	require.Equal(t, "scheduled_jobs/daily_reporting:1.0", entry.TemplateKey())
	require.Equal(t, want, entry.IdempotencyKey(slot))
}
