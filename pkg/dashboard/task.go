package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// actionDef is a manual action and the step event it applies.
type actionDef struct {
	Type  string
	Event statemachine.StepEvent
}

// The manual actions, as the API names them.
var stepActions = []actionDef{
	{engine.ActionResetForRetry, statemachine.StepEvResetForRetry},
	{engine.ActionResolveManually, statemachine.StepEvResolveManually},
	{engine.ActionCompleteManually, statemachine.StepEvCompleteManually},
}

// actionable are the step states the dashboard offers actions in: failed,
// waiting to retry, or possibly stuck with a worker.
var actionable = []statemachine.StepState{statemachine.StepError, statemachine.StepWaitingForRetry,
	statemachine.StepEnqueued, statemachine.StepInProgress}

// stepRow is one step of the task page.
type stepRow struct {
	*workflow.Step
	Actions  []string // the manual actions the step's state allows
	Result   string   // pretty JSON
	Stored   bool     // the result is stored out of line
	Duration string   // last claim → completion
}

// auditRow is one transition of the timeline.
type auditRow struct {
	workflow.Transition
	Entity string // "task" or the step's name
}

// taskData is the task page's view.
type taskData struct {
	Task      *workflow.Task
	Template  string
	Graph     graphView
	Steps     []stepRow
	Audit     []auditRow
	Context   string
	Signature string
	Finished  bool
	Flash     string
	Duration  string
	Counts    []stateCount // steps by state
}

// liveStep and liveTask are the task page's live JSON.
type liveStep struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	MaxAttempts int    `json:"max_attempts"`
}

type liveTask struct {
	State     string     `json:"state"`
	Paused    bool       `json:"paused"`
	Signature string     `json:"signature"`
	Steps     []liveStep `json:"steps"`
}

func (h *Handler) taskPage(w http.ResponseWriter, r *http.Request, s *session) {
	t, steps, ok := h.readTask(w, r, s)
	if !ok {
		return
	}
	ctx := r.Context()
	taskCtx := t.Context
	if len(taskCtx) == 0 {
		c, err := h.engine.Store().GetContext(ctx, t.UUID)
		if err != nil && !errors.Is(err, workflow.ErrNotFound) {
			h.fail(w, r, err)
			return
		}
		taskCtx = c
	}
	tpl := h.templateOf(ctx, t)
	d := taskData{Task: t, Template: fmt.Sprintf("%s/%s:%s", t.Namespace, t.Name, t.Version), Context: prettyJSON(taskCtx),
		Signature: signature(t, steps), Finished: t.State.Terminal() && t.State != statemachine.TaskError}
	d.Graph = taskGraph(tpl, steps)
	d.Steps = stepRows(d.Graph, steps, d.Finished)
	d.Audit = auditOf(t, steps)
	d.Counts = stepCounts(steps)
	end := h.clock()
	if t.CompletedAt != nil {
		end = *t.CompletedAt
	}
	d.Duration = formatDuration(end.Sub(t.CreatedAt))
	if done, step := r.URL.Query().Get("done"), r.URL.Query().Get("step"); done != "" && step != "" {
		d.Flash = fmt.Sprintf("Applied %s to step %s.", done, step)
	}
	h.show(w, r, s, http.StatusOK, "task", t.Name+" "+shortID(t.UUID), "tasks", d)
}

func (h *Handler) taskJSON(w http.ResponseWriter, r *http.Request, _ *session) {
	id, err := uuid.Parse(r.PathValue("task"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such task"})
		return
	}
	t, err := h.engine.Store().GetTask(r.Context(), id.String())
	if errors.Is(err, workflow.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such task"})
		return
	}
	var steps []*workflow.Step
	if err == nil {
		steps, err = h.engine.Store().ListSteps(r.Context(), t.UUID)
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "dashboard: read task", "task_uuid", id, "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	out := liveTask{State: string(t.State), Paused: t.Paused, Signature: signature(t, steps), Steps: []liveStep{}}
	for _, s := range steps {
		out.Steps = append(out.Steps, liveStep{Name: s.Name, State: string(s.State), Attempts: s.Attempts, MaxAttempts: s.MaxAttempts})
	}
	writeJSON(w, http.StatusOK, out)
}

// readTask reads the task of the path and its steps, answering the 404
// page for a malformed or unknown id.
func (h *Handler) readTask(w http.ResponseWriter, r *http.Request, s *session) (*workflow.Task, []*workflow.Step, bool) {
	raw := r.PathValue("task")
	id, err := uuid.Parse(raw)
	if err != nil {
		h.errorPage(w, r, s, http.StatusNotFound, "There is no task "+raw+".")
		return nil, nil, false
	}
	t, err := h.engine.Store().GetTask(r.Context(), id.String())
	if errors.Is(err, workflow.ErrNotFound) {
		h.errorPage(w, r, s, http.StatusNotFound, "There is no task "+id.String()+".")
		return nil, nil, false
	}
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	steps, err := h.engine.Store().ListSteps(r.Context(), t.UUID)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	return t, steps, true
}

// templateOf returns the task's template, nil when it cannot be read (the
// graph then shows the created steps only).
func (h *Handler) templateOf(ctx context.Context, t *workflow.Task) *template.Template {
	tpl, err := h.engine.Template(ctx, t.Namespace, t.Name, t.Version)
	if err != nil {
		h.log.WarnContext(ctx, "dashboard: template of task", "task_uuid", t.UUID, "error", err)
		return nil
	}
	return tpl
}

// stepRows lists the steps in the graph's order with what can be done to
// each.
func stepRows(g graphView, steps []*workflow.Step, finished bool) []stepRow {
	pos := map[string]int{}
	for i, n := range g.Nodes {
		pos[n.Name] = i
	}
	sorted := slices.Clone(steps)
	slices.SortStableFunc(sorted, func(a, b *workflow.Step) int { return pos[a.Name] - pos[b.Name] })
	out := make([]stepRow, 0, len(sorted))
	for _, s := range sorted {
		row := stepRow{Step: s, Result: prettyJSON(s.Result), Stored: len(s.Result) == 0 && s.ResultRef != nil,
			Duration: duration(s.ClaimedAt, s.CompletedAt)}
		if !finished {
			row.Actions = actionsFor(s.State)
		}
		out = append(out, row)
	}
	return out
}

// actionsFor lists the manual actions the step machine allows from state.
func actionsFor(state statemachine.StepState) []string {
	if !slices.Contains(actionable, state) {
		return nil
	}
	var out []string
	for _, a := range stepActions {
		if _, err := statemachine.NextStep(state, a.Event); err == nil {
			out = append(out, a.Type)
		}
	}
	return out
}

// auditOf merges the task's and the steps' transitions by time.
func auditOf(t *workflow.Task, steps []*workflow.Step) []auditRow {
	var out []auditRow
	for _, tr := range t.History {
		out = append(out, auditRow{Transition: tr, Entity: "task"})
	}
	for _, s := range steps {
		s.FillCorrelation(t.CorrelationID)
		for _, tr := range s.History {
			out = append(out, auditRow{Transition: tr, Entity: s.Name})
		}
	}
	slices.SortStableFunc(out, func(a, b auditRow) int { return a.At.Compare(b.At) })
	return out
}

func stepCounts(steps []*workflow.Step) []stateCount {
	n := map[statemachine.StepState]int{}
	for _, s := range steps {
		n[s.State]++
	}
	var out []stateCount
	for _, st := range statemachine.AllStepStates() {
		if n[st] > 0 {
			out = append(out, stateCount{State: string(st), Count: n[st]})
		}
	}
	return out
}

// signature changes whenever anything the task page shows changes.
func signature(t *workflow.Task, steps []*workflow.Step) string {
	sum := sha256.New()
	fmt.Fprintf(sum, "%s|%t|%d|%d\n", t.State, t.Paused, len(t.History), t.UpdatedAt.UnixNano())
	for _, s := range steps {
		fmt.Fprintf(sum, "%s|%s|%d|%d|%d\n", s.Name, s.State, s.Attempts, len(s.History), s.UpdatedAt.UnixNano())
	}
	return hex.EncodeToString(sum.Sum(nil))[:16]
}
