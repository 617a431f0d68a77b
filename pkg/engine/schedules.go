package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tasker-go/tasker/pkg/schedule"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// ErrUnknownSchedule means a template has no schedule of that name.
var ErrUnknownSchedule = errors.New("unknown schedule")

// FireSchedule creates the task of one slot of a template's schedule, with
// the schedule's context and an idempotency key derived from the slot, so a
// slot fired twice (EventBridge delivers at least once; the local runner may
// overlap a restart) creates one task. A duplicate is not an error: it
// returns (nil, nil) — the slot's task exists. Disabled schedules fire nothing.
func (e *Engine) FireSchedule(ctx context.Context, namespace, name, version, scheduleName string, slot time.Time) (*workflow.Task, error) {
	tpl, err := e.Template(ctx, namespace, name, version)
	if err != nil {
		return nil, err
	}
	entries, err := tpl.ScheduleEntries()
	if err != nil {
		return nil, err
	}
	for _, en := range entries {
		if en.Name != scheduleName {
			continue
		}
		if !en.Enabled {
			return nil, nil //nolint:nilnil // a disabled schedule fires nothing
		}
		t, err := e.CreateTask(ctx, TaskRequest{Namespace: namespace, Name: name, Version: version, Context: en.Context,
			Initiator: "schedule:" + scheduleName, SourceSystem: "tasker-scheduler",
			Reason:         fmt.Sprintf("schedule %s, slot %s", scheduleName, slot.UTC().Format(time.RFC3339)),
			IdempotencyKey: en.IdempotencyKey(slot)})
		if errors.Is(err, workflow.ErrDuplicateTask) {
			return nil, nil //nolint:nilnil // the slot's task exists
		}
		return t, err
	}
	return nil, fmt.Errorf("%s/%s:%s schedule %q: %w", namespace, name, version, scheduleName, ErrUnknownSchedule)
}

// ScheduleRunner returns a local runner (for `tasker dev`) that fires the
// schedules of the given templates on time through FireSchedule.
func (e *Engine) ScheduleRunner(entries []schedule.Entry) *schedule.Runner {
	return &schedule.Runner{Entries: entries, Clock: e.cfg.Clock, Logger: e.log,
		Fire: func(ctx context.Context, en schedule.Entry, slot time.Time, _ string) error {
			_, err := e.FireSchedule(ctx, en.TemplateNamespace, en.TemplateName, en.TemplateVersion, en.Name, slot)
			return err
		}}
}
