package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/engine"
)

func newTaskCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "task",
		Aliases: []string{"tasks"},
		Short:   "Create and inspect tasks",
		RunE:    groupRunE,
	}
	cmd.AddCommand(newTaskCreateCmd(g), newTaskGetCmd(g), newTaskStepsCmd(g), newTaskAuditCmd(g), newTaskListCmd(g),
		newTaskCancelCmd(g), newTaskPauseCmd(g), newTaskResumeCmd(g), newTaskWatchCmd(g))
	return cmd
}

// createFlags are task create's flags.
type createFlags struct {
	context        string
	wait           bool
	timeout        time.Duration
	poll           time.Duration
	initiator      string
	sourceSystem   string
	reason         string
	tags           []string
	priority       int
	idempotencyKey string
	correlationID  string
	parentCorrID   string
}

func newTaskCreateCmd(g *globals) *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create NAMESPACE/NAME[:VERSION]",
		Short: "Create a task from a registered template",
		Long: `Creates a task. Without :VERSION the latest registered version is used.
--context takes JSON, @FILE to read it from a file, or @- to read it from stdin.
With --wait, polls the task until it finishes and exits 1 unless it completed.`,
		Example: `  tasker task create acceptance_linear/mathematical_sequence --context '{"even_number": 6}' --wait
  tasker task create fulfillment/order_fulfillment:1.0 --context @order.json --tag nightly`,
		Args: args("NAMESPACE/NAME[:VERSION]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := f.request(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			task, err := c.CreateTask(cmd.Context(), req)
			if err != nil {
				return err
			}
			if !f.wait {
				if g.json() {
					return writeJSON(cmd.OutOrStdout(), task)
				}
				printCreated(cmd.OutOrStdout(), task)
				return nil
			}
			if !g.json() {
				printCreated(cmd.OutOrStdout(), task)
			}
			return waitAndReport(cmd.Context(), cmd.OutOrStdout(), g, c, task, f.timeout, f.poll)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.context, "context", "", "task context: JSON, @FILE or @- (stdin)")
	fl.BoolVar(&f.wait, "wait", false, "wait until the task finishes; exit 1 unless it completes")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "with --wait, give up after this long")
	fl.DurationVar(&f.poll, "poll-interval", 500*time.Millisecond, "with --wait, how often to poll")
	fl.StringVar(&f.initiator, "initiator", "", "who asked for the task (default: system)")
	fl.StringVar(&f.sourceSystem, "source-system", "", "the system the request comes from (default: api)")
	fl.StringVar(&f.reason, "reason", "", "why the task is created (at most 500 characters)")
	fl.StringArrayVar(&f.tags, "tag", nil, "a tag; repeat for several")
	fl.IntVar(&f.priority, "priority", 0, "priority from -100 to 100")
	fl.StringVar(&f.idempotencyKey, "idempotency-key", "", "deduplicate requests by this key instead of the template's identity strategy")
	fl.StringVar(&f.correlationID, "correlation-id", "", "correlation UUID (default: generated)")
	fl.StringVar(&f.parentCorrID, "parent-correlation-id", "", "correlation UUID of the parent workflow")
	return cmd
}

// request builds the TaskRequest from the argument and flags.
func (f *createFlags) request(cmd *cobra.Command, ref string) (engine.TaskRequest, error) {
	ns, name, version, err := parseTemplateRef(ref)
	if err != nil {
		return engine.TaskRequest{}, err
	}
	ctxJSON, err := readContext(f.context, cmd.InOrStdin())
	if err != nil {
		return engine.TaskRequest{}, err
	}
	if f.wait && f.timeout <= 0 {
		return engine.TaskRequest{}, usageErrorf("--timeout: must be positive, got %s", f.timeout)
	}
	req := engine.TaskRequest{
		Namespace: ns, Name: name, Version: version, Context: ctxJSON,
		Initiator: f.initiator, SourceSystem: f.sourceSystem, Reason: f.reason, Tags: f.tags,
		IdempotencyKey: f.idempotencyKey, CorrelationID: f.correlationID, ParentCorrelationID: f.parentCorrID,
	}
	if cmd.Flags().Changed("priority") {
		p := f.priority
		req.Priority = &p
	}
	return req, nil
}

// parseTemplateRef splits "NAMESPACE/NAME[:VERSION]".
func parseTemplateRef(ref string) (ns, name, version string, err error) {
	ns, rest, ok := strings.Cut(ref, "/")
	if ok {
		name, version, _ = strings.Cut(rest, ":")
	}
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") || (strings.Contains(rest, ":") && version == "") {
		return "", "", "", usageErrorf("template %q: want NAMESPACE/NAME or NAMESPACE/NAME:VERSION, e.g. acceptance_linear/mathematical_sequence:1.0.0", ref)
	}
	return ns, name, version, nil
}

// readContext reads --context: JSON, @FILE or @-. It must be a JSON object.
func readContext(v string, stdin io.Reader) (json.RawMessage, error) {
	if v == "" {
		return nil, nil
	}
	data := []byte(v)
	source := "--context"
	if file, ok := strings.CutPrefix(v, "@"); ok {
		var err error
		if file == "-" {
			data, err = io.ReadAll(stdin)
			source = "--context @- (stdin)"
		} else {
			data, err = os.ReadFile(file)
			source = "--context " + v
		}
		if err != nil {
			return nil, usageErrorf("--context: %v", err)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var syntax *json.SyntaxError
		switch {
		case strings.TrimSpace(string(data)) == "":
			return nil, usageErrorf("%s: empty; pass a JSON object such as '{\"key\": 1}'", source)
		case errors.As(err, &syntax):
			line, col := position(data, syntax.Offset)
			return nil, usageErrorf("%s: invalid JSON at line %d, column %d: %s", source, line, col, strings.TrimPrefix(err.Error(), "json: "))
		default:
			return nil, usageErrorf("%s: must be a JSON object such as '{\"key\": 1}'", source)
		}
	}
	if obj == nil {
		return nil, usageErrorf("%s: must be a JSON object, not null", source)
	}
	return json.RawMessage(data), nil
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i, b := range data {
		if int64(i) >= offset-1 {
			break
		}
		if b == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return line, col
}

func printCreated(w io.Writer, t *api.TaskResponse) {
	fmt.Fprintf(w, "created task %s  %s/%s:%s\n", t.TaskUUID, t.Namespace, t.Name, t.Version)
	fmt.Fprintf(w, "status: %s  (%d steps: %d in progress, %d pending)\n", t.Status, t.TotalSteps, t.InProgressSteps, t.PendingSteps)
}

// waitAndReport waits for the task and prints its final status; it fails
// unless the task completed.
func waitAndReport(ctx context.Context, w io.Writer, g *globals, c *client.Client, created *api.TaskResponse, timeout, poll time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	final, err := c.WaitForTask(ctx, created.TaskUUID, poll)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			status := created.Status
			if final != nil {
				status = final.Status
			}
			return fmt.Errorf("task %s is still %s after %s (--timeout)", created.TaskUUID, status, timeout)
		}
		return err
	}
	if g.json() {
		if err := writeJSON(w, final); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "task %s finished: %s  (%d/%d steps complete)\n", final.TaskUUID, final.Status, final.CompletedSteps, final.TotalSteps)
		for _, s := range final.Steps {
			if s.Error != nil {
				fmt.Fprintf(w, "  %s: %s after %d attempt(s): %s\n", s.Name, s.CurrentState, s.Attempts, s.Error.Message)
			}
		}
	}
	if final.Status != "complete" {
		return failed
	}
	return nil
}

func newTaskGetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get TASK_UUID",
		Short: "Show a task and its steps",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t, err := c.GetTask(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), t)
			}
			return printTask(cmd.OutOrStdout(), t)
		},
	}
}

func printTask(w io.Writer, t *api.TaskResponse) error {
	kv := newTable(w, "task", t.TaskUUID)
	kv.row("template", t.Namespace+"/"+t.Name+":"+t.Version)
	kv.row("status", t.Status)
	kv.row("execution", fmt.Sprintf("%s (next: %s, health: %s)", t.ExecutionStatus, t.RecommendedAction, t.HealthStatus))
	kv.row("steps", fmt.Sprintf("%d total: %d complete, %d in progress, %d pending, %d failed, %d ready (%.0f%%)",
		t.TotalSteps, t.CompletedSteps, t.InProgressSteps, t.PendingSteps, t.FailedSteps, t.ReadySteps, t.CompletionPercentage))
	kv.row("created", stamp(&t.CreatedAt))
	kv.row("updated", stamp(&t.UpdatedAt))
	kv.row("completed", stamp(t.CompletedAt))
	kv.row("initiator", t.Initiator+" via "+t.SourceSystem)
	if t.Reason != "" {
		kv.row("reason", t.Reason)
	}
	if len(t.Tags) > 0 {
		kv.row("tags", strings.Join(t.Tags, ", "))
	}
	kv.row("priority", fmt.Sprint(t.Priority))
	kv.row("correlation", t.CorrelationID)
	if t.Paused {
		kv.row("paused", "yes")
	}
	kv.row("context", truncate(compactJSON(t.Context), 100))
	if err := kv.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printSteps(w, t.Steps)
}

func newTaskStepsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "steps TASK_UUID",
		Short: "List a task's steps: state, attempts and result",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			steps, err := c.ListSteps(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), steps)
			}
			return printSteps(cmd.OutOrStdout(), steps)
		},
	}
}

func printSteps(w io.Writer, steps []api.StepResponse) error {
	tw := newTable(w, "STEP", "STATE", "ATTEMPTS", "RESULT")
	for _, s := range steps {
		tw.row(s.Name, s.CurrentState, fmt.Sprintf("%d/%d", s.Attempts, s.MaxAttempts), resultSummary(s))
	}
	return tw.flush()
}

// resultSummary is one line about a step's outcome.
func resultSummary(s api.StepResponse) string {
	switch {
	case s.Error != nil:
		return truncate("error: "+s.Error.Message, 70)
	case s.ResultsOmitted:
		return "(large result; GET the step to read it)"
	case len(s.Results) > 0 && string(s.Results) != "null":
		return truncate(compactJSON(s.Results), 70)
	case s.CurrentState == "pending" && !s.DependenciesSatisfied:
		return fmt.Sprintf("waiting for %d/%d parents", s.TotalParents-s.CompletedParents, s.TotalParents)
	case s.NextRetryAt != nil:
		return "retry at " + stamp(s.NextRetryAt)
	}
	return ""
}

func newTaskAuditCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "audit TASK_UUID",
		Short: "Show the timeline of a task's and its steps' transitions",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			entries, err := c.TaskAudit(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), entries)
			}
			tw := newTable(cmd.OutOrStdout(), "TIME", "ENTITY", "TRANSITION", "EVENT", "ATTEMPT", "PROCESSOR")
			for _, e := range entries {
				from := e.FromState
				if from == "" {
					from = "(new)"
				}
				attempt := ""
				if e.Attempt > 0 {
					attempt = fmt.Sprint(e.Attempt)
				}
				event := e.Event
				if e.Reason != "" {
					event += ": " + truncate(e.Reason, 50)
				}
				tw.row(stamp(&e.CreatedAt), e.Entity, from+" → "+e.ToState, event, attempt, e.Processor)
			}
			return tw.flush()
		},
	}
}
