package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// listTemplates serves GET /v1/templates: every registered template
// version, ordered by namespace, name and version.
func (h *Handler) listTemplates(ctx context.Context, r *request) response {
	recs, err := h.engine.Store().ListTemplates(ctx)
	if err != nil {
		return h.internal(ctx, r, err)
	}
	out := make([]TemplateSummary, 0, len(recs))
	for _, rec := range recs {
		// The stored body is the template's canonical JSON; only the
		// description and the number of steps are needed here.
		var body struct {
			Description string            `json:"description"`
			Steps       []json.RawMessage `json:"steps"`
		}
		if err := json.Unmarshal(rec.Body, &body); err != nil {
			return h.internal(ctx, r, fmt.Errorf("stored template %s/%s:%s: %w", rec.Namespace, rec.Name, rec.Version, err))
		}
		out = append(out, TemplateSummary{Namespace: rec.Namespace, Name: rec.Name, Version: rec.Version,
			Description: body.Description, StepCount: len(body.Steps)})
	}
	return jsonResponse(200, out)
}

// getTemplate serves GET /v1/templates/{namespace}/{name}/{version}: the
// template's canonical JSON, with every default filled in.
func (h *Handler) getTemplate(ctx context.Context, r *request) response {
	ns, name, version := r.params["namespace"], r.params["name"], r.params["version"]
	if res, ok := checkTemplateKey(ns, name, version); !ok {
		return res
	}
	rec, err := h.engine.Store().GetTemplate(ctx, ns, name, version)
	if errors.Is(err, workflow.ErrNotFound) {
		return errorResponse(404, CodeTemplateNotFound, fmt.Sprintf("no template is registered as %s/%s:%s", ns, name, version), "")
	}
	if err != nil {
		return h.internal(ctx, r, err)
	}
	if !json.Valid(rec.Body) {
		return h.internal(ctx, r, fmt.Errorf("stored template %s/%s:%s is not valid JSON", ns, name, version))
	}
	return response{status: 200, raw: rec.Body}
}

// registerTemplate serves POST /v1/templates: the body is a template in
// either YAML dialect or its JSON form. It answers 201 with the template's
// summary; registering the same template again is harmless, a different one
// under an existing version is a 409, and an invalid one a 400 listing every
// problem.
func (h *Handler) registerTemplate(ctx context.Context, r *request) response {
	if len(r.body) == 0 {
		return errorResponse(400, CodeInvalidRequest, "the body must be a template (YAML or JSON)", "")
	}
	t, err := template.Parse(r.body, "request body")
	if err != nil {
		var ve *template.ValidationError
		if errors.As(err, &ve) && len(ve.Problems) > 0 {
			return errorResponse(400, CodeInvalidTemplate, err.Error(), ve.Problems[0].Path)
		}
		return errorResponse(400, CodeInvalidTemplate, err.Error(), "")
	}
	switch err := h.engine.RegisterTemplate(ctx, t); {
	case errors.Is(err, workflow.ErrConflict):
		return errorResponse(409, CodeConflict, fmt.Sprintf("%s is registered with a different body; templates are immutable per version: bump the version", t.Key()), "version")
	case errors.Is(err, engine.ErrNoStepQueue):
		return errorResponse(400, CodeInvalidTemplate, err.Error(), "namespace_name")
	case err != nil:
		return h.internal(ctx, r, err)
	}
	return jsonResponse(201, TemplateSummary{Namespace: t.Namespace, Name: t.Name, Version: t.Version,
		Description: t.Description, StepCount: len(t.Steps)})
}
