package dashboard

import (
	"context"
	"net/http"
	"slices"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// DLQ view bounds.
const (
	maxDLQEntries  = 50
	maxFailedTasks = 25
)

// failedStep is a step in error of an unfinished task, with its actions.
type failedStep struct {
	Task *workflow.Task
	Row  stepRow
}

// dlqData is the DLQ page's view.
type dlqData struct {
	Status   string
	Statuses []string
	Stats    map[string]int
	Entries  []*dynamo.DLQEntry
	More     bool
	Failed   []failedStep
	Updated  string
}

func (h *Handler) dlqPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d := dlqData{Status: r.URL.Query().Get("status"), Statuses: dynamo.DLQStatuses, Updated: r.URL.Query().Get("updated")}
	if !slices.Contains(dynamo.DLQStatuses, d.Status) {
		d.Status = dynamo.DLQPending
	}
	var err error
	if d.Stats, err = h.engine.DLQStats(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.engine.Store().ListDLQ(ctx, d.Status, maxDLQEntries, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Entries, d.More = page.Entries, page.Cursor != ""
	if d.Failed, err = h.failedSteps(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	h.show(w, r, s, http.StatusOK, "dlq", "Dead letters", "dlq", d)
}

// failedSteps lists the steps in error of tasks that ended in error or are
// blocked by failures: the ones an operator can retry, resolve or complete.
func (h *Handler) failedSteps(ctx context.Context) ([]failedStep, error) {
	var tasks []*workflow.Task
	for _, st := range []statemachine.TaskState{statemachine.TaskBlockedByFailures, statemachine.TaskError} {
		page, err := h.engine.Store().ListTasks(ctx, dynamo.TaskFilter{Status: string(st)}, maxFailedTasks, "")
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, page.Tasks...)
	}
	slices.SortStableFunc(tasks, func(a, b *workflow.Task) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	if len(tasks) > maxFailedTasks {
		tasks = tasks[:maxFailedTasks]
	}
	var out []failedStep
	for _, t := range tasks {
		steps, err := h.engine.Store().ListSteps(ctx, t.UUID)
		if err != nil {
			return nil, err
		}
		for _, s := range steps {
			if s.State == statemachine.StepError {
				out = append(out, failedStep{Task: t, Row: stepRow{Step: s, Actions: actionsFor(s.State)}})
			}
		}
	}
	return out, nil
}
