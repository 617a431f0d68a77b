package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
)

// dlqStatuses are the resolution statuses, for flag checks and help.
var dlqStatuses = []string{api.DLQPending, api.DLQManuallyResolved, api.DLQPermanentlyFailed, api.DLQCancelled}

func newDLQCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Investigate the dead-letter queue: stale tasks and messages SQS gave up on",
		Long: `The DLQ records what needs an operator: tasks that made no progress for longer than their
template's lifecycle allows (with a snapshot), and messages SQS moved to a dead-letter queue.
An entry only records the investigation; fix the task with 'tasker step retry|resolve|complete'
and then mark the entry with 'tasker dlq update'.`,
		RunE: groupRunE,
	}
	cmd.AddCommand(newDLQListCmd(g), newDLQGetCmd(g), newDLQUpdateCmd(g), newDLQStatsCmd(g))
	return cmd
}

func newDLQListCmd(g *globals) *cobra.Command {
	var (
		opts client.DLQListOptions
		all  bool
	)
	cmd := &cobra.Command{
		Use:   "list [--status pending]",
		Short: "List entries with a resolution status, newest first",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(dlqStatuses, opts.Status) {
				return usageErrorf("--status: must be one of %s, got %q", strings.Join(dlqStatuses, ", "), opts.Status)
			}
			if opts.Limit < 1 || opts.Limit > api.MaxListLimit {
				return usageErrorf("--limit: must be from 1 to %d, got %d", api.MaxListLimit, opts.Limit)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			page, err := c.ListDLQ(cmd.Context(), opts)
			if err != nil {
				return err
			}
			for all && page.Pagination.HasNext {
				next := opts
				next.Cursor = page.Pagination.NextCursor
				more, err := c.ListDLQ(cmd.Context(), next)
				if err != nil {
					return err
				}
				page.Entries, page.Pagination = append(page.Entries, more.Entries...), more.Pagination
			}
			out := cmd.OutOrStdout()
			if g.json() {
				return writeJSON(out, page)
			}
			tw := newTable(out, "ENTRY", "TASK", "REASON", "STATUS", "CREATED", "MESSAGE")
			for _, e := range page.Entries {
				task := e.TaskUUID
				if task == "" {
					task = "-"
				}
				tw.row(e.DLQEntryUUID, task, e.DLQReason, e.ResolutionStatus, stamp(&e.CreatedAt), truncate(e.Message, 60))
			}
			if err := tw.flush(); err != nil {
				return err
			}
			if page.Pagination.HasNext {
				fmt.Fprintf(out, "more: --cursor %s\n", page.Pagination.NextCursor)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Status, "status", api.DLQPending, "resolution status: "+strings.Join(dlqStatuses, ", "))
	fl.IntVar(&opts.Limit, "limit", api.DefaultListLimit, fmt.Sprintf("page size, 1 to %d", api.MaxListLimit))
	fl.StringVar(&opts.Cursor, "cursor", "", "continue after a previous page (its next cursor)")
	fl.BoolVar(&all, "all", false, "follow the cursor and list every entry")
	return cmd
}

func newDLQGetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get TASK_UUID",
		Short: "Show every entry about a task, with the task's snapshot",
		Args:  args("TASK_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			entries, err := c.DLQForTask(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json() {
				return writeJSON(out, entries)
			}
			if len(entries) == 0 {
				fmt.Fprintf(out, "task %s has no DLQ entries\n", args[0])
				return nil
			}
			for i, e := range entries {
				if i > 0 {
					fmt.Fprintln(out)
				}
				if err := printDLQEntry(out, e); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func printDLQEntry(w io.Writer, e api.DLQEntry) error {
	kv := newTable(w, "entry", e.DLQEntryUUID)
	if e.TaskUUID != "" {
		kv.row("task", e.TaskUUID)
	}
	kv.row("reason", e.DLQReason)
	kv.row("status", e.ResolutionStatus)
	kv.row("created", stamp(&e.CreatedAt))
	if e.OriginalState != "" {
		kv.row("task state", e.OriginalState)
	}
	if e.Source != "" {
		kv.row("source", e.Source)
	}
	if e.Message != "" {
		kv.row("message", truncate(e.Message, 200))
	}
	if e.ResolutionTimestamp != nil {
		kv.row("resolved", stamp(e.ResolutionTimestamp)+" by "+e.ResolvedBy)
	}
	if e.ResolutionNotes != "" {
		kv.row("notes", e.ResolutionNotes)
	}
	if err := kv.flush(); err != nil {
		return err
	}
	if len(e.TaskSnapshot) > 0 {
		var b bytes.Buffer
		if json.Indent(&b, e.TaskSnapshot, "  ", "  ") == nil {
			fmt.Fprintf(w, "snapshot:\n  %s\n", b.String())
		}
	}
	return nil
}

func newDLQUpdateCmd(g *globals) *cobra.Command {
	var req api.DLQUpdateRequest
	cmd := &cobra.Command{
		Use:     "update ENTRY_UUID --status STATUS [--notes TEXT]",
		Short:   "Record the outcome of an investigation",
		Example: `  tasker dlq update 01a2... --status manually_resolved --notes "reset charge_card; task completed"`,
		Args:    args("ENTRY_UUID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.ResolutionStatus == "" {
				return usageErrorf("--status: required; one of %s", strings.Join(dlqStatuses, ", "))
			}
			if !slices.Contains(dlqStatuses, req.ResolutionStatus) {
				return usageErrorf("--status: must be one of %s, got %q", strings.Join(dlqStatuses, ", "), req.ResolutionStatus)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			req.ResolvedBy = g.actor(req.ResolvedBy)
			e, err := c.UpdateDLQEntry(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), e)
			}
			return printDLQEntry(cmd.OutOrStdout(), *e)
		},
	}
	cmd.Flags().StringVar(&req.ResolutionStatus, "status", "", "new resolution status: "+strings.Join(dlqStatuses, ", "))
	cmd.Flags().StringVar(&req.ResolutionNotes, "notes", "", "what was found and done")
	cmd.Flags().StringVar(&req.ResolvedBy, "by", "", "who resolves (default $USER)")
	return cmd
}

func newDLQStatsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Count entries by resolution status",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			s, err := c.DLQStats(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			tw := newTable(cmd.OutOrStdout(), "STATUS", "ENTRIES")
			tw.row(api.DLQPending, fmt.Sprint(s.Pending))
			tw.row(api.DLQManuallyResolved, fmt.Sprint(s.ManuallyResolved))
			tw.row(api.DLQPermanentlyFailed, fmt.Sprint(s.PermanentlyFailed))
			tw.row(api.DLQCancelled, fmt.Sprint(s.Cancelled))
			tw.row("total", fmt.Sprint(s.TotalEntries))
			return tw.flush()
		},
	}
}
