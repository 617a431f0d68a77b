package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
)

func newTaskWatchCmd(g *globals) *cobra.Command {
	var interval, timeout time.Duration
	cmd := &cobra.Command{
		Use:   "watch TASK_UUID",
		Short: "Show a task's progress live, step by step, until it finishes",
		Long: `Polls the task every --interval and redraws its steps: state, attempts, time and result.
On a terminal the view is redrawn in place; otherwise (a pipe, a file) a new view is printed
each time something changes, and -o json prints one task JSON per line on each change.
Exits 0 when the task completes and 1 when it ends otherwise (error, cancelled,
resolved_manually) or --timeout passes.`,
		Args: args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval <= 0 {
				return usageErrorf("--interval: must be positive, got %s", interval)
			}
			if timeout < 0 {
				return usageErrorf("--timeout: must not be negative, got %s", timeout)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			out := cmd.OutOrStdout()
			w := &watcher{out: out, live: isTerminal(out), json: g.json(), interval: interval, start: time.Now()}
			return w.run(ctx, c, args[0], timeout)
		},
	}
	cmd.Flags().DurationVar(&interval, "interval", 500*time.Millisecond, "how often to poll and redraw")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: never)")
	return cmd
}

// watcher draws a task's progress.
type watcher struct {
	out      io.Writer
	live     bool // a terminal: redraw in place, show running times
	json     bool
	interval time.Duration
	start    time.Time
	last     string // the last view printed (not live)
	lastErr  string
}

func (w *watcher) run(ctx context.Context, c *client.Client, id string, timeout time.Duration) error {
	var last *api.TaskResponse
	for {
		t, err := c.GetTask(ctx, id)
		switch {
		case err == nil:
			last, w.lastErr = t, ""
			if err := w.show(t); err != nil {
				return err
			}
			if t.Terminal() {
				return w.finish(t)
			}
		case ctx.Err() != nil:
		case transientError(err):
			w.lastErr = err.Error()
		default:
			return err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && last != nil {
				return fmt.Errorf("task %s is still %s after %s (--timeout)", id, last.Status, timeout)
			}
			return ctx.Err()
		case <-time.After(w.interval):
		}
	}
}

// show draws the task: in place on a terminal, else when it changed.
func (w *watcher) show(t *api.TaskResponse) error {
	if w.json {
		sig := progressSignature(t)
		if sig == w.last {
			return nil
		}
		w.last = sig
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w.out, "%s\n", b)
		return err
	}
	view := renderProgress(t, time.Now(), w.live)
	if w.live {
		footer := fmt.Sprintf("\nwatching for %s (every %s; Ctrl-C to stop)\n", time.Since(w.start).Round(100*time.Millisecond), w.interval)
		if w.lastErr != "" {
			footer += "last poll failed, retrying: " + w.lastErr + "\n"
		}
		_, err := io.WriteString(w.out, "\x1b[H\x1b[2J"+view+footer)
		return err
	}
	if view == w.last {
		return nil
	}
	sep := ""
	if w.last != "" {
		sep = "\n"
	}
	w.last = view
	_, err := io.WriteString(w.out, sep+view)
	return err
}

// finish reports the end and fails unless the task completed.
func (w *watcher) finish(t *api.TaskResponse) error {
	if !w.json {
		fmt.Fprintf(w.out, "task %s finished: %s (%d/%d steps complete) after %s\n", t.TaskUUID, t.Status,
			t.CompletedSteps, t.TotalSteps, time.Since(w.start).Round(time.Millisecond))
	}
	if t.Status != "complete" {
		return failed
	}
	return nil
}

// stateIcons mark each step state in the view.
var stateIcons = map[string]string{
	"pending": "·", "enqueued": "…", "in_progress": "▶", "enqueued_for_orchestration": "▶",
	"enqueued_as_error_for_orchestration": "▶", "waiting_for_retry": "↻", "complete": "✔",
	"resolved_manually": "✔", "error": "✘", "cancelled": "⊘",
}

// renderProgress draws a task and its steps. live adds the running time of
// steps in progress (which changes every poll).
func renderProgress(t *api.TaskResponse, now time.Time, live bool) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "task %s  %s/%s:%s\n", t.TaskUUID, t.Namespace, t.Name, t.Version)
	paused := ""
	if t.Paused {
		paused = "  PAUSED"
	}
	fmt.Fprintf(&b, "%-18s %s %d/%d steps done (%.0f%%)%s\n\n", t.Status, progressBar(t.CompletionPercentage, 24),
		t.CompletedSteps, t.TotalSteps, t.CompletionPercentage, paused)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tSTATE\tATTEMPTS\tTIME\tDETAIL")
	for _, s := range t.Steps {
		icon := stateIcons[s.CurrentState]
		if icon == "" {
			icon = "?"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%d/%d\t%s\t%s\n", icon, s.Name, s.CurrentState, s.Attempts, s.MaxAttempts,
			stepDuration(s, now, live), strings.NewReplacer("\t", " ", "\n", " ").Replace(resultSummary(s)))
	}
	_ = tw.Flush()
	return b.String()
}

// progressBar draws pct (0–100) in width cells.
func progressBar(pct float64, width int) string {
	done := int(pct / 100 * float64(width))
	done = max(0, min(width, done))
	return "[" + strings.Repeat("#", done) + strings.Repeat("-", width-done) + "]"
}

// stepDuration is how long a finished step's last attempt took, or (live)
// how long a running step has been running.
func stepDuration(s api.StepResponse, now time.Time, live bool) string {
	if s.LastAttemptedAt == nil {
		return ""
	}
	switch {
	case s.CompletedAt != nil && !s.CompletedAt.Before(*s.LastAttemptedAt):
		return s.CompletedAt.Sub(*s.LastAttemptedAt).Round(time.Millisecond).String()
	case live && s.CurrentState == "in_progress":
		return now.Sub(*s.LastAttemptedAt).Round(100 * time.Millisecond).String()
	}
	return ""
}

// progressSignature changes when the task's or a step's state, attempts or
// result change.
func progressSignature(t *api.TaskResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v", t.Status, t.Paused)
	for _, s := range t.Steps {
		fmt.Fprintf(&b, "|%s %s %d %s", s.Name, s.CurrentState, s.Attempts, s.Results)
	}
	return b.String()
}

// transientError reports a failed poll worth repeating: a network error or
// a 5xx or 429 answer.
func transientError(err error) bool {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500 || apiErr.Status == 429
	}
	return true
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
