package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
)

func newStepCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "step",
		Aliases: []string{"steps"},
		Short:   "Act on a task's step by hand: retry, resolve or complete it",
		Long: `Manual step actions, as Tasker Core's StepManualAction. STEP is the step's UUID or its name.
After the action the task is re-driven: a task that ended in error is reopened and runs on.`,
		RunE: groupRunE,
	}
	cmd.AddCommand(
		newStepActionCmd(g, "retry", api.ActionResetForRetry, "Reset a failed step to pending with zero attempts, so it runs again"),
		newStepActionCmd(g, "resolve", api.ActionResolveManually, "Mark a step done without a result; its dependents run (with a null parent result)"),
		newStepActionCmd(g, "complete", api.ActionCompleteManually, "Complete a step with a result (--result); its dependents receive it"),
	)
	return cmd
}

func newStepActionCmd(g *globals, verb, action, short string) *cobra.Command {
	var reason, by, result string
	cmd := &cobra.Command{
		Use:   verb + " TASK_UUID STEP",
		Short: short,
		Args:  args("TASK_UUID", "STEP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a := api.StepManualAction{ActionType: action, Reason: reason}
			if a.Reason == "" {
				a.Reason = verb + " via tasker CLI"
			}
			operator := g.actor(by)
			switch action {
			case api.ActionResetForRetry:
				a.ResetBy = operator
			case api.ActionResolveManually:
				a.ResolvedBy = operator
			case api.ActionCompleteManually:
				if result == "" {
					return usageErrorf(`--result: required; the step's result as JSON, @FILE or @- (stdin), e.g. --result '{"ok": true}'`)
				}
				raw, err := readJSONArg("--result", result, cmd.InOrStdin())
				if err != nil {
					return err
				}
				a.CompletedBy, a.CompletionData = operator, &api.CompletionData{Result: raw}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			stepUUID, err := resolveStep(cmd.Context(), c, args[0], args[1])
			if err != nil {
				return err
			}
			s, err := c.StepAction(cmd.Context(), args[0], stepUUID, a)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json() {
				return writeJSON(out, s)
			}
			if err := printSteps(out, []api.StepResponse{*s}); err != nil {
				return err
			}
			fmt.Fprintf(out, "task re-driven; follow it with: tasker task watch %s\n", s.TaskUUID)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the audit trail (default: \""+verb+" via tasker CLI\")")
	cmd.Flags().StringVar(&by, "by", "", "who acts (default $USER)")
	if action == api.ActionCompleteManually {
		cmd.Flags().StringVar(&result, "result", "", "the step's result: JSON, @FILE or @- (stdin); required")
	}
	return cmd
}

// resolveStep turns STEP (a UUID or a step name) into the step's UUID.
func resolveStep(ctx context.Context, c *client.Client, taskUUID, step string) (string, error) {
	if _, err := uuid.Parse(step); err == nil {
		return step, nil
	}
	steps, err := c.ListSteps(ctx, taskUUID)
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range steps {
		if s.Name == step {
			return s.StepUUID, nil
		}
		names = append(names, s.Name)
	}
	return "", fmt.Errorf("task %s has no step named %q (steps: %s)", taskUUID, step, strings.Join(names, ", "))
}

// readJSONArg reads a flag's JSON value: inline, @FILE or @- (stdin). Any
// JSON value but null is accepted.
func readJSONArg(flag, v string, stdin io.Reader) (json.RawMessage, error) {
	data, source := []byte(v), flag
	if file, ok := strings.CutPrefix(v, "@"); ok {
		var err error
		if file == "-" {
			data, err = io.ReadAll(stdin)
			source = flag + " @- (stdin)"
		} else {
			data, err = os.ReadFile(file)
			source = flag + " " + v
		}
		if err != nil {
			return nil, usageErrorf("%s: %v", flag, err)
		}
	}
	trimmed := strings.TrimSpace(string(data))
	var probe any
	if err := json.Unmarshal([]byte(trimmed), &probe); err != nil {
		var syntax *json.SyntaxError
		switch {
		case trimmed == "":
			return nil, usageErrorf("%s: empty; pass JSON such as '{\"ok\": true}'", source)
		case errors.As(err, &syntax):
			line, col := position([]byte(trimmed), syntax.Offset)
			return nil, usageErrorf("%s: invalid JSON at line %d, column %d: %s", source, line, col, strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil, usageErrorf("%s: invalid JSON: %v", source, err)
	}
	if probe == nil {
		return nil, usageErrorf("%s: must not be null", source)
	}
	return json.RawMessage(trimmed), nil
}
