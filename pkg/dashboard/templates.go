package dashboard

import (
	"errors"
	"net/http"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/template"
)

// templateRow is one registered template version.
type templateRow struct {
	Namespace, Name, Version string
	Description              string
	Steps                    int
}

func (h *Handler) templateList(w http.ResponseWriter, r *http.Request, s *session) {
	recs, err := h.engine.Store().ListTemplates(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows := make([]templateRow, 0, len(recs))
	for _, rec := range recs {
		t, err := h.engine.Template(r.Context(), rec.Namespace, rec.Name, rec.Version)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rows = append(rows, templateRow{Namespace: t.Namespace, Name: t.Name, Version: t.Version,
			Description: t.Description, Steps: len(t.Steps)})
	}
	h.show(w, r, s, http.StatusOK, "templates", "Templates", "templates", rows)
}

// templateData is a template page's view.
type templateData struct {
	Template *template.Template
	Graph    graphView
}

func (h *Handler) templatePage(w http.ResponseWriter, r *http.Request, s *session) {
	ns, name, version := r.PathValue("ns"), r.PathValue("name"), r.PathValue("version")
	t, err := h.engine.Template(r.Context(), ns, name, version)
	if errors.Is(err, engine.ErrTemplateNotFound) {
		h.errorPage(w, r, s, http.StatusNotFound, "No template is registered as "+ns+"/"+name+":"+version+".")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.show(w, r, s, http.StatusOK, "template", t.Name, "templates", templateData{Template: t, Graph: templateGraph(t)})
}
