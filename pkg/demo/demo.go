// Package demo runs the sample workflows end to end on a local stack: it
// submits each case through the HTTP API, prints live progress per step as
// the engine reports it, and then prints each task's final state, step
// results and audit trail. `make demo` (tasker demo) runs it; a test runs it
// too, so the demo cannot silently break.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/engine"
)

// Case is one sample task and the final state it must reach.
type Case struct {
	Title     string
	Namespace string
	Name      string
	Context   map[string]any
	Expect    string
	// ExpectSteps, when set, is the number of steps the task must end with.
	ExpectSteps int
	// ExpectComplete names steps that must end complete (e.g. compensations).
	ExpectComplete []string
}

// Cases are the sample workflows `make demo` runs.
func Cases() []Case {
	order := func(extra map[string]any) map[string]any {
		c := map[string]any{"order_id": "ORD-1001", "customer_id": "CUST-42",
			"items":  []any{map[string]any{"sku": "WIDGET-1", "quantity": 2}, map[string]any{"sku": "GADGET-7", "quantity": 1}},
			"amount": 129.99}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	return []Case{
		{Title: "order fulfillment", Namespace: "fulfillment", Name: "order_fulfillment", Context: order(nil), Expect: "complete", ExpectSteps: 6},
		{Title: "order fulfillment, payment gateway flaky twice (retries)", Namespace: "fulfillment", Name: "order_fulfillment",
			Context: order(map[string]any{"order_id": "ORD-1002", "fail_payment_times": 2}), Expect: "complete", ExpectSteps: 6},
		{Title: "order fulfillment, fraud detected (permanent failure)", Namespace: "fulfillment", Name: "order_fulfillment",
			Context: order(map[string]any{"order_id": "ORD-1003", "fraud": true}), Expect: "error"},
		{Title: "payment processing", Namespace: "payments", Name: "payment_processing",
			Context: map[string]any{"payment_id": "PAY-9", "amount": 250, "currency": "EUR", "payment_method": "card"}, Expect: "complete"},
		{Title: "conditional approval, 7500 (manager + finance)", Namespace: "approvals", Name: "conditional_approval",
			Context: map[string]any{"amount": 7500, "requester": "alice", "purpose": "laptops"}, Expect: "complete", ExpectSteps: 5},
		{Title: "conditional approval, 300 (auto)", Namespace: "approvals", Name: "conditional_approval",
			Context: map[string]any{"amount": 300, "requester": "bob", "purpose": "books"}, Expect: "complete", ExpectSteps: 4},
		{Title: "customer ETL in batches", Namespace: "etl", Name: "customer_etl",
			Context: map[string]any{"customer_count": 450, "processing_date": "2026-11-27"}, Expect: "complete"},
		{Title: "user registration", Namespace: "user_onboarding", Name: "user_registration",
			Context: map[string]any{"user_id": "U-77", "email": "new.user@example.com", "plan": "pro"}, Expect: "complete"},
		{Title: "user registration, duplicate email (saga: account deleted)", Namespace: "user_onboarding", Name: "user_registration",
			Context: map[string]any{"user_id": "U-78", "email": "taken@example.com", "duplicate_email": true}, Expect: "error",
			ExpectComplete: []string{"compensate_create_auth_account"}},
		{Title: "order confirmation email (TypeScript worker, Go fallback)", Namespace: TypeScriptNamespace, Name: "order_confirmation",
			Context: map[string]any{"order_id": "ORD-1001", "customer_id": "CUST-42", "email": "customer42@example.com", "tracking_number": "TRK-1001"},
			Expect:  "complete", ExpectSteps: 1},
		{Title: "daily reporting", Namespace: "scheduled_jobs", Name: "daily_reporting",
			Context: map[string]any{"report_date": "2026-11-26", "report_types": []any{"sales", "inventory"}}, Expect: "complete"},
	}
}

// Progress prints engine events as live progress lines. Its Notify method is
// the engine's notification hook.
type Progress struct {
	mu     sync.Mutex
	out    io.Writer
	titles map[string]string
	start  time.Time
	events chan engine.Event
	done   map[string]chan struct{}
	closed chan struct{}
}

// NewProgress returns a progress printer writing to out.
func NewProgress(out io.Writer) *Progress {
	p := &Progress{out: out, titles: map[string]string{}, start: time.Now(), events: make(chan engine.Event, 4096),
		done: map[string]chan struct{}{}, closed: make(chan struct{})}
	go p.loop()
	return p
}

// Notify receives an engine event; it never blocks the engine.
func (p *Progress) Notify(ev engine.Event) {
	select {
	case p.events <- ev:
	default:
	}
}

func (p *Progress) loop() {
	defer close(p.closed)
	for ev := range p.events {
		p.mu.Lock()
		title := p.titles[ev.TaskUUID]
		if title == "" {
			title = short(ev.TaskUUID)
		}
		elapsed := time.Since(p.start).Milliseconds()
		if ev.StepName == "" {
			fmt.Fprintf(p.out, "%7dms  %-58s task → %s\n", elapsed, title, ev.State)
			if isTerminal(ev.State) {
				p.doneChan(ev.TaskUUID)
				closeOnce(p.done[ev.TaskUUID])
			}
		} else {
			fmt.Fprintf(p.out, "%7dms  %-58s   %-28s → %s (attempt %d)\n", elapsed, title, ev.StepName, ev.State, ev.Attempt)
		}
		p.mu.Unlock()
	}
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (p *Progress) doneChan(task string) chan struct{} {
	ch, ok := p.done[task]
	if !ok {
		ch = make(chan struct{})
		p.done[task] = ch
	}
	return ch
}

// name labels a task's progress lines.
func (p *Progress) name(task, title string) {
	p.mu.Lock()
	p.titles[task] = title
	p.mu.Unlock()
}

// wait blocks until the engine reports the task terminal or ctx ends.
func (p *Progress) wait(ctx context.Context, task string) error {
	p.mu.Lock()
	ch := p.doneChan(task)
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isTerminal(s string) bool {
	switch s {
	case "complete", "error", "cancelled", "resolved_manually":
		return true
	}
	return false
}

func short(u string) string {
	if len(u) > 8 {
		return u[len(u)-8:]
	}
	return u
}

// Outcome is what happened to one case.
type Outcome struct {
	Case  Case
	Task  *api.TaskResponse
	Audit []api.AuditEntry
	OK    bool
	Err   error
}

// Run submits every case through the API at once, waits for each to finish
// (by engine notification), prints the report and returns the outcomes. ok
// is true only if every case reached its expected final state.
func Run(ctx context.Context, out io.Writer, c *client.Client, p *Progress, cases []Case) ([]Outcome, bool) {
	outcomes := make([]Outcome, len(cases))
	var wg sync.WaitGroup
	for i, cs := range cases {
		outcomes[i].Case = cs
		raw, err := json.Marshal(cs.Context)
		if err != nil {
			outcomes[i].Err = err
			continue
		}
		created, err := c.CreateTask(ctx, engine.TaskRequest{Namespace: cs.Namespace, Name: cs.Name, Context: raw,
			Initiator: "demo", SourceSystem: "tasker-demo", Reason: cs.Title})
		if err != nil {
			outcomes[i].Err = fmt.Errorf("create %s/%s: %w", cs.Namespace, cs.Name, err)
			continue
		}
		p.name(created.TaskUUID, cs.Title)
		wg.Add(1)
		go func(i int, task string) {
			defer wg.Done()
			if err := p.wait(ctx, task); err != nil {
				outcomes[i].Err = fmt.Errorf("waiting for %s: %w", task, err)
			}
			t, err := c.GetTask(ctx, task)
			if err != nil {
				outcomes[i].Err = err
				return
			}
			outcomes[i].Task = t
			if outcomes[i].Audit, err = c.TaskAudit(ctx, task); err != nil {
				outcomes[i].Err = err
			}
		}(i, created.TaskUUID)
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // let the last progress lines print before the report
	allOK := true
	for i := range outcomes {
		o := &outcomes[i]
		o.OK = o.Err == nil && o.Task != nil && o.Task.Status == o.Case.Expect &&
			(o.Case.ExpectSteps == 0 || len(o.Task.Steps) == o.Case.ExpectSteps) && completed(o.Task, o.Case.ExpectComplete)
		allOK = allOK && o.OK
		report(out, o)
	}
	verdict := "PASS"
	if !allOK {
		verdict = "FAIL"
	}
	passed := 0
	for _, o := range outcomes {
		if o.OK {
			passed++
		}
	}
	fmt.Fprintf(out, "\ndemo: %s — %d of %d sample tasks reached their expected final state\n", verdict, passed, len(outcomes))
	return outcomes, allOK
}

// completed reports whether every named step is complete.
func completed(t *api.TaskResponse, names []string) bool {
	for _, n := range names {
		found := false
		for _, s := range t.Steps {
			found = found || (s.Name == n && s.CurrentState == "complete")
		}
		if !found {
			return false
		}
	}
	return true
}

func report(out io.Writer, o *Outcome) {
	mark := "✔"
	if !o.OK {
		mark = "✘"
	}
	fmt.Fprintf(out, "\n%s %s — expected %s", mark, o.Case.Title, o.Case.Expect)
	if o.Err != nil {
		fmt.Fprintf(out, "\n    error: %v\n", o.Err)
		return
	}
	t := o.Task
	fmt.Fprintf(out, ", got %s (task %s, %d steps, %s)\n", t.Status, t.TaskUUID, len(t.Steps), elapsed(t))
	steps := append([]api.StepResponse(nil), t.Steps...)
	sort.Slice(steps, func(i, j int) bool {
		return steps[i].CreatedAt.Before(steps[j].CreatedAt) || (steps[i].CreatedAt.Equal(steps[j].CreatedAt) && steps[i].Name < steps[j].Name)
	})
	fmt.Fprintf(out, "    %-30s %-12s %-8s %s\n", "STEP", "STATE", "ATTEMPTS", "RESULT / ERROR")
	for _, s := range steps {
		detail := compact(s.Results, 90)
		if s.Error != nil && s.CurrentState != "complete" {
			detail = "error: " + s.Error.Message
		}
		fmt.Fprintf(out, "    %-30s %-12s %d/%-6d %s\n", s.Name, s.CurrentState, s.Attempts, s.MaxAttempts, detail)
	}
	fmt.Fprintf(out, "    audit trail (%d transitions):\n", len(o.Audit))
	for _, a := range o.Audit {
		from := a.FromState
		if from == "" {
			from = "∅"
		}
		line := fmt.Sprintf("      %s  %-26s %s → %s (%s)", a.CreatedAt.Format("15:04:05.000"), a.Entity, from, a.ToState, a.Event)
		if a.Reason != "" {
			line += " — " + a.Reason
		}
		fmt.Fprintln(out, line)
	}
}

func elapsed(t *api.TaskResponse) string {
	if t.CompletedAt == nil {
		return "not finished"
	}
	return t.CompletedAt.Sub(t.CreatedAt).Round(time.Millisecond).String()
}

func compact(raw json.RawMessage, limit int) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "null"
	}
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
