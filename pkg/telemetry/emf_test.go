package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/telemetry"
)

// emfLine is the part of an EMF document the test reads.
type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func TestEMFLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	tel, err := telemetry.New(context.Background(), telemetry.Options{EMF: &out, EMFNamespace: "TaskerTest"})
	require.NoError(t, err)
	m := tel.MeterProvider().Meter("test")
	c, err := m.Int64Counter("orders.validated", metric.WithUnit("{order}"))
	require.NoError(t, err)
	h, err := m.Float64Histogram("tasker.step.execution.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.01, 0.1, 1))
	require.NoError(t, err)
	ns := metric.WithAttributes(attribute.String("namespace", "fulfillment"), attribute.String("handler", "ship"))
	c.Add(context.Background(), 2, ns)
	h.Record(context.Background(), 0.05, ns)
	h.Record(context.Background(), 0.07, ns)
	h.Record(context.Background(), 5, ns)
	c.Add(context.Background(), 1) // no attributes: a line of its own
	require.NoError(t, tel.Flush(context.Background()))

	docs := map[string]map[string]any{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var line emfLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		require.NotZero(t, line.AWS.Timestamp)
		require.Len(t, line.AWS.CloudWatchMetrics, 1)
		d := line.AWS.CloudWatchMetrics[0]
		require.Equal(t, "TaskerTest", d.Namespace)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &doc))
		for _, mt := range d.Metrics {
			require.Contains(t, doc, mt.Name, "every declared metric has a value")
		}
		require.Len(t, d.Dimensions, 1)
		for _, dim := range d.Dimensions[0] {
			require.Contains(t, doc, dim, "every dimension has a value")
		}
		key := "none"
		if len(d.Dimensions[0]) > 0 {
			key = doc["namespace"].(string)
			require.Equal(t, []string{"handler", "namespace"}, d.Dimensions[0])
		}
		docs[key] = doc
	}
	require.Len(t, docs, 2)
	f := docs["fulfillment"]
	require.Equal(t, 2.0, f["orders.validated"])
	require.Equal(t, "ship", f["handler"])
	// (0.01, 0.1] clamped to the min 0.05 → 0.075 twice; (1, +Inf) clamped to the max 5 → 3.
	require.InDeltaSlice(t, []any{0.075, 0.075, 3.0}, f["tasker.step.execution.duration"], 1e-9, "bucket midpoints clamped to min/max")
	require.Equal(t, 1.0, docs["none"]["orders.validated"])

	// Sums are deltas: a second flush with nothing new writes no values.
	out.Reset()
	c.Add(context.Background(), 3, ns)
	require.NoError(t, tel.Flush(context.Background()))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(out.Bytes()), &doc))
	require.Equal(t, 3.0, doc["orders.validated"])
	require.NotContains(t, doc, "tasker.step.execution.duration")
}

// TestSweepRecoveriesAreCounted: what a sweep or a task's first check did
// that no message brought is counted by kind, so an operator sees lost
// messages and dead workers.
func TestSweepRecoveriesAreCounted(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	tel, err := telemetry.New(context.Background(), telemetry.Options{EMF: &out, EMFNamespace: "TaskerTest"})
	require.NoError(t, err)
	_, err = tel.Sweep(context.Background(), func(context.Context) (engine.SweepReport, error) {
		return engine.SweepReport{Examined: 5, TimedOut: 2, Resent: 1, Enqueued: 3}, nil
	})
	require.NoError(t, err)
	// A task's first check, come as a check_task message, counts alike.
	tel.EngineChecked()(context.Background(), engine.SweepReport{Resent: 1})
	require.NoError(t, tel.Flush(context.Background()))
	got := map[string]float64{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &doc))
		if v, ok := doc[telemetry.MetricSweepRecoveries].(float64); ok {
			got[doc["kind"].(string)] = v
		}
	}
	require.Equal(t, map[string]float64{"timed_out": 2, "resent": 2, "enqueued": 3}, got)
}
