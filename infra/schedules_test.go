package infra_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/infra"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/template"
)

func TestFireScheduleExampleIsAFireScheduleMessage(t *testing.T) {
	t.Parallel()
	var m infra.FireScheduleMessage
	dec := json.NewDecoder(stringsReader(infra.FireScheduleExample))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&m))
	require.Equal(t, infra.KindFireSchedule, m.Kind)
	require.Equal(t, protocol.Version, m.V)
	require.NotEmpty(t, m.Namespace)
	require.NotEmpty(t, m.Slot)
}

// TestScheduleSendsFireScheduleToOrchestration checks the schedule the prod
// stack deploys by hand.
func TestScheduleSendsFireScheduleToOrchestration(t *testing.T) {
	t.Parallel()
	s := prod
	names := s.stack.Tasker.Names()
	_, sch := s.byProp(t, "AWS::Scheduler::Schedule", "Name", "scheduled_jobs.daily_reporting.1.0.hourly")
	p := sch.Properties
	require.Equal(t, "rate(1 hour)", p["ScheduleExpression"])
	require.Equal(t, "Europe/Berlin", p["ScheduleExpressionTimezone"])
	require.Equal(t, "DISABLED", p["State"])
	require.Equal(t, map[string]any{"Mode": "OFF"}, p["FlexibleTimeWindow"])

	target := p["Target"].(map[string]any)
	orchestration, _ := s.byProp(t, "AWS::SQS::Queue", "QueueName", names.OrchestrationQueue())
	dlq, _ := s.byProp(t, "AWS::SQS::Queue", "QueueName", names.OrchestrationQueue()+"-dlq")
	require.Equal(t, orchestration, refID(target["Arn"]))
	require.Equal(t, dlq, refID(target["DeadLetterConfig"].(map[string]any)["Arn"]))

	input := target["Input"].(string)
	require.Contains(t, input, `"slot":"`+infra.ScheduledTimePlaceholder+`"`, "the placeholder verbatim, not HTML-escaped")
	var msg map[string]any
	require.NoError(t, json.Unmarshal([]byte(input), &msg))
	require.Equal(t, map[string]any{
		"v": float64(protocol.Version), "kind": infra.KindFireSchedule,
		"namespace": "scheduled_jobs", "name": "daily_reporting", "version": "1.0", "schedule": "hourly",
		"slot": infra.ScheduledTimePlaceholder,
	}, msg)

	// The role EventBridge Scheduler assumes may only send to those two.
	role := refID(target["RoleArn"])
	want := []string{"sqs:SendMessage on " + dlq, "sqs:SendMessage on " + orchestration}
	sort.Strings(want)
	require.Equal(t, want, s.grantsOf(role).sorted())

	_, groups := s.ofType("AWS::Scheduler::ScheduleGroup")
	require.Len(t, groups, 1)
	require.Equal(t, names.Prefix, groups[0].Properties["Name"])
}

// TestTemplateSchedulesBecomeSchedulerSchedules checks that every schedule
// of templates/ is deployed, with its expression, zone and state.
func TestTemplateSchedulesBecomeSchedulerSchedules(t *testing.T) {
	t.Parallel()
	templates, err := template.LoadDir(filepath.Join("..", "templates"))
	require.NoError(t, err)
	var want []string
	for _, tp := range templates {
		for _, s := range tp.Schedules {
			state := "ENABLED"
			if !s.Enabled {
				state = "DISABLED"
			}
			want = append(want, fmt.Sprintf("%s/%s:%s %s %s %s %s", tp.Namespace, tp.Name, tp.Version, s.Name, s.Expression, s.Timezone, state))
		}
	}
	require.NotEmpty(t, want, "templates/ has schedules (scheduled_jobs/daily_reporting)")
	_, schedules := dev.ofType("AWS::Scheduler::Schedule")
	var got []string
	for _, sch := range schedules {
		p := sch.Properties
		var m infra.FireScheduleMessage
		require.NoError(t, json.Unmarshal([]byte(p["Target"].(map[string]any)["Input"].(string)), &m))
		got = append(got, fmt.Sprintf("%s/%s:%s %s %s %s %s", m.Namespace, m.Name, m.Version, m.Schedule,
			p["ScheduleExpression"], p["ScheduleExpressionTimezone"], p["State"]))
	}
	require.ElementsMatch(t, want, got)
}
