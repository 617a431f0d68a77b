package dashboard

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// List bounds: counts cover at most maxCounted tasks (newest first within a
// namespace); at most maxRows are listed.
const (
	maxCounted = 1000
	maxRows    = 100
	listPage   = 100
)

// taskFilter is the task list's filters, from the query string.
type taskFilter struct {
	Namespace string
	State     string
	Template  string // "namespace/name"
}

func filterFrom(r *http.Request) taskFilter {
	q := r.URL.Query()
	f := taskFilter{Namespace: q.Get("namespace"), State: q.Get("state"), Template: q.Get("template")}
	if _, err := statemachine.ParseTaskState(f.State); err != nil {
		f.State = ""
	}
	return f
}

// stateCount is how many listed tasks are in one state.
type stateCount struct {
	State string `json:"state"`
	Count int    `json:"count"`
}

// taskRow is one row of the task list (and of its JSON).
type taskRow struct {
	UUID      string     `json:"task_uuid"`
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Version   string     `json:"version"`
	State     string     `json:"state"`
	Paused    bool       `json:"paused"`
	Initiator string     `json:"initiator"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Completed *time.Time `json:"completed_at,omitempty"`
	Created   string     `json:"created"`  // formatted
	Duration  string     `json:"duration"` // created → completed, or so far
}

// taskListData is the task list's view and its live JSON.
type taskListData struct {
	Filter     taskFilter   `json:"-"`
	Namespaces []string     `json:"-"`
	Templates  []string     `json:"-"`
	States     []string     `json:"-"`
	Counts     []stateCount `json:"counts"`
	Total      int          `json:"total"`
	Truncated  bool         `json:"truncated"` // counts cover only the newest maxCounted
	Tasks      []taskRow    `json:"tasks"`
	More       int          `json:"more"` // matching tasks not listed
}

func (h *Handler) taskList(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := h.listTasks(r.Context(), filterFrom(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Namespaces, d.Templates, err = h.templateNames(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, st := range statemachine.AllTaskStates() {
		d.States = append(d.States, string(st))
	}
	h.show(w, r, s, http.StatusOK, "tasks", "Tasks", "tasks", d)
}

func (h *Handler) taskListJSON(w http.ResponseWriter, r *http.Request, _ *session) {
	d, err := h.listTasks(r.Context(), filterFrom(r))
	if err != nil {
		h.log.ErrorContext(r.Context(), "dashboard: list tasks", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// listTasks reads the tasks matching the namespace and template filters,
// counts them by state, and lists the newest of those also matching the
// state filter.
func (h *Handler) listTasks(ctx context.Context, f taskFilter) (*taskListData, error) {
	ns, name, _ := strings.Cut(f.Template, "/")
	if f.Template != "" && f.Namespace != "" && ns != f.Namespace {
		return &taskListData{Filter: f, Tasks: []taskRow{}, Counts: []stateCount{}}, nil
	}
	if ns == "" {
		ns = f.Namespace
	}
	var tasks []*workflow.Task
	cursor, truncated := "", false
	for {
		page, err := h.engine.Store().ListTasks(ctx, dynamo.TaskFilter{Namespace: ns}, listPage, cursor)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tasks {
			if name == "" || t.Name == name {
				tasks = append(tasks, t)
			}
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
		if len(tasks) >= maxCounted {
			truncated = true
			break
		}
	}
	slices.SortStableFunc(tasks, func(a, b *workflow.Task) int { return b.CreatedAt.Compare(a.CreatedAt) })
	now := h.clock()
	d := &taskListData{Filter: f, Total: len(tasks), Truncated: truncated, Tasks: []taskRow{}}
	counts := map[string]int{}
	for _, t := range tasks {
		counts[string(t.State)]++
		if f.State != "" && string(t.State) != f.State {
			continue
		}
		if len(d.Tasks) == maxRows {
			d.More++
			continue
		}
		d.Tasks = append(d.Tasks, rowOf(t, now))
	}
	d.Counts = []stateCount{}
	for _, st := range statemachine.AllTaskStates() {
		if n := counts[string(st)]; n > 0 {
			d.Counts = append(d.Counts, stateCount{State: string(st), Count: n})
		}
	}
	return d, nil
}

func rowOf(t *workflow.Task, now time.Time) taskRow {
	end := now
	if t.CompletedAt != nil {
		end = *t.CompletedAt
	}
	return taskRow{UUID: t.UUID, Namespace: t.Namespace, Name: t.Name, Version: t.Version, State: string(t.State),
		Paused: t.Paused, Initiator: t.Initiator, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Completed: t.CompletedAt,
		Created: when(t.CreatedAt), Duration: formatDuration(end.Sub(t.CreatedAt))}
}

// templateNames lists the registered namespaces and "namespace/name"s.
func (h *Handler) templateNames(ctx context.Context) ([]string, []string, error) {
	recs, err := h.engine.Store().ListTemplates(ctx)
	if err != nil {
		return nil, nil, err
	}
	var nss, names []string
	for _, rec := range recs {
		if !slices.Contains(nss, rec.Namespace) {
			nss = append(nss, rec.Namespace)
		}
		if k := rec.Namespace + "/" + rec.Name; !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	slices.Sort(nss)
	slices.Sort(names)
	return nss, names, nil
}
