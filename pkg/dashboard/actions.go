package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// stepAction applies a manual action from the confirmation dialog with
// the engine operation PATCH /v1/tasks/{task}/workflow_steps/{step} uses,
// then returns to the page the dialog was on.
func (h *Handler) stepAction(w http.ResponseWriter, r *http.Request, s *session) {
	taskID, err1 := uuid.Parse(r.PathValue("task"))
	stepID, err2 := uuid.Parse(r.PathValue("step"))
	if err1 != nil || err2 != nil {
		h.errorPage(w, r, s, http.StatusNotFound, "There is no such task or step.")
		return
	}
	a, msg := actionFromForm(r, s.operator())
	if msg != "" {
		h.errorPage(w, r, s, http.StatusBadRequest, msg)
		return
	}
	step, err := h.engine.ApplyStepAction(r.Context(), taskID.String(), stepID.String(), a)
	if err != nil {
		status, msg := actionError(err, a.Type)
		if status == http.StatusInternalServerError {
			h.fail(w, r, fmt.Errorf("%s step %s of task %s: %w", a.Type, stepID, taskID, err))
			return
		}
		h.errorPage(w, r, s, status, msg)
		return
	}
	back := returnTo(r, Prefix+"/tasks/"+taskID.String())
	q := url.Values{"done": {a.Type}, "step": {step.Name}}
	http.Redirect(w, r, back+"?"+q.Encode(), http.StatusSeeOther)
}

// actionFromForm validates the dialog's fields as the API validates its
// request body; it returns a message for the operator when they are wrong.
func actionFromForm(r *http.Request, by string) (engine.StepAction, string) {
	a := engine.StepAction{Type: r.PostFormValue("action_type"), Reason: strings.TrimSpace(r.PostFormValue("reason")), By: by}
	switch {
	case !slices.ContainsFunc(stepActions, func(x actionDef) bool { return x.Type == a.Type }):
		return a, fmt.Sprintf("Unknown action %q.", a.Type)
	case a.Reason == "":
		return a, "Give a reason: it is kept in the audit trail."
	case utf8.RuneCountInString(a.Reason) > api.MaxReasonLength:
		return a, fmt.Sprintf("The reason is longer than %d characters.", api.MaxReasonLength)
	}
	if a.Type == engine.ActionCompleteManually {
		data := strings.TrimSpace(r.PostFormValue("completion_data"))
		if data == "" || data == "null" || !json.Valid([]byte(data)) {
			return a, `The completion data must be JSON: the step's result, which its dependents receive, e.g. {"charge_id": "ch_1"}.`
		}
		a.Result = json.RawMessage(data)
	}
	return a, ""
}

// actionError maps ApplyStepAction's errors as the API does.
func actionError(err error, action string) (int, string) {
	var (
		invalid *engine.InvalidRequestError
		illegal *statemachine.IllegalTransitionError
	)
	switch {
	case errors.As(err, &invalid):
		return http.StatusBadRequest, invalid.Error()
	case errors.Is(err, workflow.ErrNotFound):
		return http.StatusNotFound, "There is no such task or step."
	case errors.Is(err, engine.ErrTaskFinished):
		return http.StatusConflict, "The task has finished; manual step actions need an unfinished task."
	case errors.As(err, &illegal) && illegal.Machine == statemachine.MachineStep:
		return http.StatusConflict, fmt.Sprintf("A step in state %s cannot %s.", illegal.From, action)
	case errors.As(err, &illegal):
		return http.StatusConflict, fmt.Sprintf("A task in state %s cannot %s.", illegal.From, action)
	case errors.Is(err, workflow.ErrConflict):
		return http.StatusConflict, "The step changed while the action was applied; reload and try again."
	}
	return http.StatusInternalServerError, ""
}

// dlqUpdate records an investigation's outcome on a DLQ entry with the
// engine operation PATCH /v1/dlq/entry/{entry} uses.
func (h *Handler) dlqUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := uuid.Parse(r.PathValue("entry"))
	if err != nil {
		h.errorPage(w, r, s, http.StatusNotFound, "There is no such DLQ entry.")
		return
	}
	status, notes := r.PostFormValue("resolution_status"), strings.TrimSpace(r.PostFormValue("notes"))
	switch {
	case !slices.Contains(dynamo.DLQStatuses, status):
		h.errorPage(w, r, s, http.StatusBadRequest, "Choose one of "+strings.Join(dynamo.DLQStatuses, ", ")+".")
		return
	case len(notes) > api.MaxResolutionNotes:
		h.errorPage(w, r, s, http.StatusBadRequest, fmt.Sprintf("The notes are longer than %d bytes.", api.MaxResolutionNotes))
		return
	}
	_, err = h.engine.UpdateDLQEntry(r.Context(), id.String(), engine.DLQUpdate{ResolutionStatus: status, Notes: notes, ResolvedBy: s.operator()})
	var invalid *engine.InvalidRequestError
	switch {
	case errors.Is(err, workflow.ErrNotFound):
		h.errorPage(w, r, s, http.StatusNotFound, "There is no DLQ entry "+id.String()+".")
		return
	case errors.As(err, &invalid):
		h.errorPage(w, r, s, http.StatusBadRequest, invalid.Error())
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/dlq?"+url.Values{"updated": {id.String()}}.Encode(), http.StatusSeeOther)
}

// returnTo is the page to go back to: the form's return_to when it is a
// dashboard page, else fallback.
func returnTo(r *http.Request, fallback string) string {
	back := r.PostFormValue("return_to")
	if back == "" || safeNext(back) != back || strings.Contains(back, "?") {
		return fallback
	}
	return back
}
