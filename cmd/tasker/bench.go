package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		o   bench.Options
		out string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure latency, throughput and AWS requests per step on the embedded local AWS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.GCPercent < 0 {
				return fmt.Errorf("--gogc %d: want a positive GC percentage, or 0 to leave GOGC as it is", o.GCPercent)
			}
			o.Out = cmd.ErrOrStderr()
			rep, err := bench.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			bench.Print(cmd.OutOrStdout(), rep)
			if out == "" {
				return nil
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			b, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report written to %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.TemplatePath, "template", "templates/fulfillment/order_fulfillment.yaml", "the order fulfillment template")
	cmd.Flags().IntVar(&o.Warmup, "warmup", 20, "tasks run before measuring")
	cmd.Flags().IntVar(&o.Single, "single", 200, "sequential tasks for the latency figures")
	cmd.Flags().IntVar(&o.PerWorker, "per-worker", 25, "tasks per concurrent submitter in the throughput runs")
	cmd.Flags().IntSliceVar(&o.BatchSizes, "batch-workers", []int{98, 998, 9998}, "batch tasks to run, by worker count (steps = workers + 2)")
	cmd.Flags().StringVar(&o.Endpoint, "endpoint", "", "benchmark a running AWS endpoint (e.g. LocalStack at http://localhost:4566) instead of the embedded one")
	cmd.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the single-task phase to this file (read it with go tool pprof)")
	cmd.Flags().StringVar(&o.C32Profile, "cpuprofile-c32", "", "write a CPU profile of the 32-concurrent-task phase to this file")
	cmd.Flags().IntVar(&o.GCPercent, "gogc", 400, "Go GC target of the benchmark process, which also holds the embedded emulator's data (0: leave GOGC alone)")
	cmd.Flags().StringVar(&out, "out", "", "write the report as JSON to this file")
	return cmd
}
