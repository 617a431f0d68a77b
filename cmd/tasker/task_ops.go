package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
)

func newTaskListCmd(g *globals) *cobra.Command {
	var (
		opts client.ListOptions
		all  bool
	)
	cmd := &cobra.Command{
		Use:   "list [--namespace NS] [--status STATE] [--initiator WHO] [--source-system SYS]",
		Short: "List tasks; with --namespace newest first",
		Long: `Lists tasks, optionally filtered. With --namespace the namespace's index is read, newest
first; without it the API scans every task (fine for operators, slow on a large table).
Filters can leave a page short; --all follows the cursor to the end.`,
		Example: `  tasker task list -n fulfillment --status error
  tasker task list --initiator billing-service --all -o json`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Limit < 1 || opts.Limit > api.MaxListLimit {
				return usageErrorf("--limit: must be from 1 to %d, got %d", api.MaxListLimit, opts.Limit)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			page, err := c.ListTasks(cmd.Context(), opts)
			if err != nil {
				return err
			}
			for all && page.Pagination.HasNext {
				next := opts
				next.Cursor = page.Pagination.NextCursor
				more, err := c.ListTasks(cmd.Context(), next)
				if err != nil {
					return err
				}
				page.Tasks, page.Pagination = append(page.Tasks, more.Tasks...), more.Pagination
			}
			return printTaskList(cmd.OutOrStdout(), g, page)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Namespace, "namespace", "n", "", "only this namespace's tasks, newest first")
	fl.StringVar(&opts.Status, "status", "", "only tasks in this state, e.g. error, steps_in_process, complete")
	fl.StringVar(&opts.Initiator, "initiator", "", "only tasks with this initiator")
	fl.StringVar(&opts.SourceSystem, "source-system", "", "only tasks from this source system")
	fl.IntVar(&opts.Limit, "limit", api.DefaultListLimit, fmt.Sprintf("page size, 1 to %d", api.MaxListLimit))
	fl.StringVar(&opts.Cursor, "cursor", "", "continue after a previous page (its next cursor)")
	fl.BoolVar(&all, "all", false, "follow the cursor and list every matching task")
	return cmd
}

func printTaskList(w io.Writer, g *globals, page *api.TaskList) error {
	if g.json() {
		return writeJSON(w, page)
	}
	tw := newTable(w, "TASK", "TEMPLATE", "STATUS", "STEPS", "CREATED")
	for _, t := range page.Tasks {
		tw.row(t.TaskUUID, t.Namespace+"/"+t.Name+":"+t.Version, t.Status, fmt.Sprintf("%d/%d", t.CompletedSteps, t.TotalSteps), stamp(&t.CreatedAt))
	}
	if err := tw.flush(); err != nil {
		return err
	}
	if page.Pagination.HasNext {
		fmt.Fprintf(w, "more: --cursor %s\n", page.Pagination.NextCursor)
	}
	return nil
}

func newTaskCancelCmd(g *globals) *cobra.Command {
	var reason, by string
	cmd := &cobra.Command{
		Use:   "cancel TASK_UUID",
		Short: "Cancel a task: steps not started are cancelled, running steps finish",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t, err := c.CancelTask(cmd.Context(), args[0], reason, g.actor(by))
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s cancelled; %d step(s) still running will finish, their dependents will not start\n", t.TaskUUID, t.InProgressSteps)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the audit trail")
	cmd.Flags().StringVar(&by, "by", "", "who cancels (default $USER)")
	return cmd
}

func newTaskPauseCmd(g *globals) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "pause TASK_UUID",
		Short: "Pause a task: no new step starts until it is resumed",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t, err := c.PauseTask(cmd.Context(), args[0], g.actor(by))
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s paused (%s); running steps finish, no new step starts\nresume with: tasker task resume %s\n", t.TaskUUID, t.Status, t.TaskUUID)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who pauses (default $USER)")
	return cmd
}

func newTaskResumeCmd(g *globals) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "resume TASK_UUID",
		Short: "Resume a paused task",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t, err := c.ResumeTask(cmd.Context(), args[0], g.actor(by))
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s resumed (%s; %d/%d steps complete)\n", t.TaskUUID, t.Status, t.CompletedSteps, t.TotalSteps)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who resumes (default $USER)")
	return cmd
}
