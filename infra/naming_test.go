package infra

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScheduleNameFitsEventBridge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   TemplateSchedule
		want string
	}{
		{"readable when it fits", TemplateSchedule{Namespace: "scheduled_jobs", Name: "daily_reporting", Version: "1.0", Schedule: "daily"},
			"scheduled_jobs.daily_reporting.1.0.daily"},
		{"hashed when too long", TemplateSchedule{Namespace: "ns", Name: strings.Repeat("n", 80), Version: "1.0", Schedule: "s"}, ""},
		{"hashed when a character is refused", TemplateSchedule{Namespace: "ns", Name: "a+b", Version: "1.0.0-rc+1", Schedule: "s"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in.scheduleName()
			require.LessOrEqual(t, len(got), 64)
			require.Regexp(t, `^[0-9A-Za-z_.-]+$`, got)
			if tt.want != "" {
				require.Equal(t, tt.want, got)
			}
			other := tt.in
			other.Schedule += "x"
			require.NotEqual(t, got, other.scheduleName(), "distinct schedules, distinct names")
		})
	}
}

func TestConstructID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"user_onboarding": "UserOnboarding", "etl": "Etl", "a1_b": "A1B"} {
		require.Equal(t, want, constructID(in))
	}
}

func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	ok := TemplateSchedule{Namespace: "ns", Name: "n", Version: "1.0", Schedule: "s", Expression: "cron(0 6 * * ? *)", Timezone: "Europe/Berlin"}
	require.NoError(t, ok.validate())
	badExpr := ok
	badExpr.Expression = "cron(0 6 * * *)"
	require.ErrorContains(t, badExpr.validate(), "schedule s of ns/n:1.0")
	badZone := ok
	badZone.Timezone = "Mars/Olympus"
	require.ErrorContains(t, badZone.validate(), "time zone")
}
