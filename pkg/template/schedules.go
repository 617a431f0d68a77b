package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/schedule"
)

// Schedule starts a task of its template on a schedule (see docs/schedules.md).
// Parse fills the defaults: Timezone "UTC", Enabled true.
type Schedule struct {
	// Name is 1 to 64 lower-case letters, digits, '_' or '-', unique within the template.
	Name string `json:"name"`
	// Expression is an EventBridge Scheduler expression: rate(…), cron(…) or at(…).
	Expression string `json:"expression"`
	// Timezone is the IANA zone the expression is read in.
	Timezone    string `json:"timezone"`
	Description string `json:"description,omitempty"`
	// Context is the task context every firing starts with; it satisfies the
	// template's input_schema. Nil when absent or empty.
	Context map[string]any `json:"context,omitempty"`
	// Enabled is false for a schedule that is declared but never fired.
	Enabled bool `json:"enabled"`
}

// readSchedules reads `schedules`, keeping one Schedule per item so that
// indexes match the source. It also returns the indexes of the items that
// were mappings, whose contexts are worth checking.
func readSchedules(f *fields) ([]Schedule, []int) {
	items, ok := f.list("schedules")
	if !ok || len(items) == 0 {
		return nil, nil
	}
	if len(items) > maxSchedules {
		f.c.addf("schedules", "%d schedules given; a template may have at most %d", len(items), maxSchedules)
		return nil, nil
	}
	out := make([]Schedule, len(items))
	var readable []int
	first := map[string]int{}
	for i, item := range items {
		path := joinIndex("schedules", i)
		sf, ok := mappingAt(f.c, path, item)
		if !ok {
			continue
		}
		readable = append(readable, i)
		out[i] = readSchedule(sf)
		if name := out[i].Name; name != "" {
			if j, dup := first[name]; dup {
				f.c.addf(sf.at("name"), "duplicate schedule name %q (also schedules[%d])", name, j)
			} else {
				first[name] = i
			}
		}
	}
	return out, readable
}

func readSchedule(f *fields) Schedule {
	s := Schedule{Timezone: "UTC"}
	if name, ok := f.requiredStr("name"); ok {
		s.Name = name
		if !scheduleNamePattern.MatchString(name) {
			f.c.addf(f.at("name"), "%s must be 1 to 64 lower-case letters, digits, '_' or '-'", quoteShort(name))
		}
	}
	loc := time.UTC
	if tz, ok := f.str("timezone"); ok {
		s.Timezone = tz
		l, err := loadTimezone(tz)
		if err != nil {
			f.c.addf(f.at("timezone"), "%v", err)
		} else {
			loc = l
		}
	}
	if expr, ok := f.requiredStr("expression"); ok {
		s.Expression = expr
		if _, err := schedule.Parse(expr, loc); err != nil {
			f.c.addf(f.at("expression"), "%v", err)
		}
	}
	s.Description, _ = f.str("description")
	s.Context = f.opaque("context")
	s.Enabled = f.boolean("enabled", true)
	f.done()
	return s
}

// loadTimezone resolves an IANA zone name. "Local" is refused: a template
// must mean the same on every machine.
func loadTimezone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%s is not an IANA time zone name (such as UTC or Europe/Berlin)", quoteShort(name))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %s (use an IANA name such as UTC or Europe/Berlin)", quoteShort(name))
	}
	return loc, nil
}

// checkScheduleContexts checks the context of each readable schedule
// against the template's input_schema, naming the offending field's path.
// An absent context is checked as {}.
func checkScheduleContexts(t *Template, readable []int, c *collector) {
	if len(readable) == 0 {
		return
	}
	if t.InputSchema != nil {
		if _, err := compileSchema(t.InputSchema); err != nil {
			return // reported by checkInputSchema
		}
	}
	for _, i := range readable {
		s := t.Schedules[i]
		base := joinKey(joinIndex("schedules", i), "context")
		raw, err := scheduleContextJSON(s.Context)
		if err != nil {
			c.addf(base, "%v", err)
			continue
		}
		var cerr *ContextError
		if err := t.ValidateContext(raw); errors.As(err, &cerr) {
			c.addf(contextFieldPath(base, s.Context, cerr.Field), "%s (input_schema)", cerr.Reason)
		}
	}
}

func scheduleContextJSON(ctx map[string]any) (json.RawMessage, error) {
	if ctx == nil {
		return json.RawMessage(`{}`), nil
	}
	return json.Marshal(ctx)
}

// contextFieldPath turns a JSON pointer into the context into a problem
// path under base: "/report_types/0" → "schedules[0].context.report_types[0]".
func contextFieldPath(base string, ctx map[string]any, pointer string) string {
	if pointer == "/" || pointer == "" {
		return base
	}
	path := base
	var doc any = ctx
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if list, ok := doc.([]any); ok {
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(list) {
				path, doc = joinIndex(path, i), list[i]
				continue
			}
		}
		m, _ := doc.(map[string]any)
		path, doc = joinKey(path, tok), m[tok]
	}
	return path
}

// ScheduleEntries returns the template's schedules ready for a
// schedule.Runner, disabled ones included (with Enabled false). For a
// template from Parse or ParseJSON it does not fail; for a hand-built one
// it returns the first schedule whose time zone or expression is invalid,
// wrapped with the schedule's name.
func (t *Template) ScheduleEntries() ([]schedule.Entry, error) {
	out := make([]schedule.Entry, 0, len(t.Schedules))
	for _, s := range t.Schedules {
		loc, err := loadTimezone(s.Timezone)
		if err != nil {
			return nil, fmt.Errorf("template %s: schedule %s: timezone: %w", t.Key(), s.Name, err)
		}
		expr, err := schedule.Parse(s.Expression, loc)
		if err != nil {
			return nil, fmt.Errorf("template %s: schedule %s: %w", t.Key(), s.Name, err)
		}
		ctx, err := scheduleContextJSON(s.Context)
		if err != nil {
			return nil, fmt.Errorf("template %s: schedule %s: context: %w", t.Key(), s.Name, err)
		}
		out = append(out, schedule.Entry{
			TemplateNamespace: t.Namespace, TemplateName: t.Name, TemplateVersion: t.Version,
			Name: s.Name, Expr: expr, Context: ctx, Enabled: s.Enabled,
		})
	}
	return out, nil
}
