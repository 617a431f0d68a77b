package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// MaxResolutionNotes bounds resolution_notes, in bytes (the engine's limit).
const MaxResolutionNotes = 2000

// listDLQ serves GET /v1/dlq?resolution_status=&limit=&cursor=: entries
// with one resolution status (default pending), newest first.
func (h *Handler) listDLQ(ctx context.Context, r *request) response {
	status := r.query["resolution_status"]
	if status == "" {
		status = DLQPending
	}
	if !slices.Contains(dynamo.DLQStatuses, status) {
		return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("resolution_status: must be one of %s, got %q", strings.Join(dynamo.DLQStatuses, ", "), status), "resolution_status")
	}
	limit, res, ok := queryLimit(r)
	if !ok {
		return res
	}
	page, err := h.engine.Store().ListDLQ(ctx, status, limit, r.query["cursor"])
	if errors.Is(err, dynamo.ErrBadCursor) {
		return errorResponse(400, CodeInvalidRequest, "cursor: invalid; pass the next_cursor of the previous page with the same resolution_status unchanged", "cursor")
	}
	if err != nil {
		return h.internal(ctx, r, err)
	}
	out := DLQList{Entries: make([]DLQEntry, 0, len(page.Entries)),
		Pagination: Pagination{Limit: limit, HasNext: page.Cursor != "", NextCursor: page.Cursor}}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, dlqEntryResponse(e, false))
	}
	return jsonResponse(200, out)
}

// dlqForTask serves GET /v1/dlq/task/{task_uuid}: every entry about a task,
// newest first, with snapshots. A task without entries answers an empty
// list; an unknown task without entries is a 404.
func (h *Handler) dlqForTask(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "task_uuid")
	if !ok {
		return res
	}
	entries, err := h.engine.Store().DLQEntriesForTask(ctx, id)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	if len(entries) == 0 {
		if _, err := h.engine.Store().GetTask(ctx, id); err != nil {
			return h.taskError(ctx, r, id, err)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].CreatedAt.After(entries[j].CreatedAt) })
	out := make([]DLQEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, dlqEntryResponse(e, true))
	}
	return boundedSteps(200, out, func() {
		for i := range out {
			out[i].omitDetails()
		}
	})
}

// getDLQEntry serves GET /v1/dlq/entry/{entry_uuid}.
func (h *Handler) getDLQEntry(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "entry_uuid")
	if !ok {
		return res
	}
	e, err := h.engine.Store().GetDLQEntry(ctx, id)
	if err != nil {
		return h.dlqError(ctx, r, id, err)
	}
	return dlqEntryBody(e)
}

// updateDLQEntry serves PATCH /v1/dlq/entry/{entry_uuid}: an operator
// records the outcome of an investigation.
func (h *Handler) updateDLQEntry(ctx context.Context, r *request) response {
	id, res, ok := pathUUID(r, "entry_uuid")
	if !ok {
		return res
	}
	var req DLQUpdateRequest
	if res, ok := decodeBody(r.body, &req); !ok {
		return res
	}
	if res, ok := req.check(); !ok {
		return res
	}
	e, err := h.engine.UpdateDLQEntry(ctx, id, engine.DLQUpdate{ResolutionStatus: req.ResolutionStatus, Notes: req.ResolutionNotes, ResolvedBy: req.ResolvedBy})
	if err != nil {
		return h.dlqError(ctx, r, id, err)
	}
	return dlqEntryBody(e)
}

// check validates an update before it reaches the engine.
func (u *DLQUpdateRequest) check() (response, bool) {
	switch {
	case u.ResolutionStatus == "":
		return errorResponse(400, CodeInvalidRequest, "resolution_status: required; one of "+strings.Join(dynamo.DLQStatuses, ", "), "resolution_status"), false
	case !slices.Contains(dynamo.DLQStatuses, u.ResolutionStatus):
		return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("resolution_status: must be one of %s, got %q", strings.Join(dynamo.DLQStatuses, ", "), u.ResolutionStatus), "resolution_status"), false
	case len(u.ResolutionNotes) > MaxResolutionNotes:
		return errorResponse(400, CodeInvalidRequest, fmt.Sprintf("resolution_notes: at most %d bytes, got %d", MaxResolutionNotes, len(u.ResolutionNotes)), "resolution_notes"), false
	}
	if res, ok := checkText("resolved_by", u.ResolvedBy, MaxActorLength); !ok {
		return res, false
	}
	if m := strings.TrimSpace(string(u.Metadata)); m != "" && m != "null" && !strings.HasPrefix(m, "{") {
		return errorResponse(400, CodeInvalidRequest, "metadata: must be an object", "metadata"), false
	}
	return response{}, true
}

// dlqStats serves GET /v1/dlq/stats.
func (h *Handler) dlqStats(ctx context.Context, r *request) response {
	counts, err := h.engine.DLQStats(ctx)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	out := DLQStats{Pending: counts[DLQPending], ManuallyResolved: counts[DLQManuallyResolved],
		PermanentlyFailed: counts[DLQPermanentlyFailed], Cancelled: counts[DLQCancelled]}
	for _, n := range counts {
		out.TotalEntries += n
	}
	return jsonResponse(200, out)
}

// dlqEntryBody answers 200 with one entry, snapshot included (left out if
// the response would be too large).
func dlqEntryBody(e *dynamo.DLQEntry) response {
	out := dlqEntryResponse(e, true)
	return boundedSteps(200, &out, out.omitDetails)
}

// dlqError maps the errors of reading and updating an entry.
func (h *Handler) dlqError(ctx context.Context, r *request, id string, err error) response {
	var invalid *engine.InvalidRequestError
	switch {
	case errors.Is(err, workflow.ErrNotFound):
		return errorResponse(404, CodeDLQEntryNotFound, "no DLQ entry "+id, "entry_uuid")
	case errors.As(err, &invalid):
		return errorResponse(400, CodeInvalidRequest, invalid.Error(), invalid.Field)
	}
	return h.internal(ctx, r, err)
}
