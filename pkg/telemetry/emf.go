package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// EMF writes metrics as CloudWatch Embedded Metric Format: one JSON line
// per attribute set, which CloudWatch Logs turns into metrics with no agent
// and no API call (a Lambda function's stdout goes to CloudWatch Logs).
// It is a manual reader: call Flush at the end of each invocation. Sums
// are deltas since the last flush; a histogram becomes up to 100
// representative values (each observation's bucket midpoint, clamped to
// the observed min and max), which CloudWatch aggregates into statistics
// and percentiles.
type EMF struct {
	reader    *sdkmetric.ManualReader
	namespace string
	mu        sync.Mutex
	w         io.Writer
	now       func() time.Time
}

// maxEMFValues is the most values EMF accepts for one metric in one line.
const maxEMFValues = 100

// NewEMF returns an EMF reader writing to w under the CloudWatch namespace ns.
func NewEMF(w io.Writer, ns string) *EMF {
	delta := func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }
	return &EMF{reader: sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(delta)), namespace: ns, w: w, now: time.Now}
}

// Reader is the reader to register with the meter provider.
func (e *EMF) Reader() sdkmetric.Reader { return e.reader }

// Flush collects what was recorded since the last flush and writes it.
func (e *EMF) Flush(ctx context.Context) error {
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(ctx, &rm); err != nil {
		return fmt.Errorf("emf collect: %w", err)
	}
	groups := map[attribute.Distinct]*emfGroup{}
	var order []attribute.Distinct
	group := func(set attribute.Set) *emfGroup {
		k := set.Equivalent()
		g, ok := groups[k]
		if !ok {
			g = &emfGroup{set: set, values: map[string]any{}}
			groups[k] = g
			order = append(order, k)
		}
		return g
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			unit := emfUnit(m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					group(p.Attributes).add(m.Name, unit, float64(p.Value))
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					group(p.Attributes).add(m.Name, unit, p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					group(p.Attributes).add(m.Name, unit, float64(p.Value))
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					group(p.Attributes).add(m.Name, unit, p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if p.Count > 0 {
						group(p.Attributes).add(m.Name, unit, histogramValues(p))
					}
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					if p.Count > 0 {
						fp := metricdata.HistogramDataPoint[float64]{Count: p.Count, Bounds: p.Bounds, BucketCounts: p.BucketCounts,
							Min: floatExtrema(p.Min), Max: floatExtrema(p.Max), Sum: float64(p.Sum)}
						group(p.Attributes).add(m.Name, unit, histogramValues(fp))
					}
				}
			}
		}
	}
	ts := e.now().UnixMilli()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range order {
		line, err := groups[k].line(e.namespace, ts)
		if err != nil {
			return err
		}
		if _, err := e.w.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("emf write: %w", err)
		}
	}
	return nil
}

type emfGroup struct {
	set     attribute.Set
	metrics []emfMetric
	values  map[string]any
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit,omitempty"`
}

func (g *emfGroup) add(name, unit string, v any) {
	if _, dup := g.values[name]; dup {
		return
	}
	g.metrics = append(g.metrics, emfMetric{Name: name, Unit: unit})
	g.values[name] = v
}

func (g *emfGroup) line(ns string, ts int64) ([]byte, error) {
	doc := make(map[string]any, len(g.values)+g.set.Len()+1)
	dims := make([]string, 0, g.set.Len())
	for _, kv := range g.set.ToSlice() {
		dims = append(dims, string(kv.Key))
		doc[string(kv.Key)] = kv.Value.Emit()
	}
	sort.Strings(dims)
	for k, v := range g.values {
		doc[k] = v
	}
	doc["_aws"] = map[string]any{
		"Timestamp": ts,
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace": ns, "Dimensions": [][]string{dims}, "Metrics": g.metrics,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("emf encode: %w", err)
	}
	return b, nil
}

func emfUnit(u string) string {
	switch u {
	case "s":
		return "Seconds"
	case "ms":
		return "Milliseconds"
	case "By":
		return "Bytes"
	case "", "1":
		return "None"
	}
	if len(u) > 1 && u[0] == '{' {
		return "Count"
	}
	return "None"
}

func floatExtrema(e metricdata.Extrema[int64]) metricdata.Extrema[float64] {
	v, ok := e.Value()
	if !ok {
		return metricdata.Extrema[float64]{}
	}
	return metricdata.NewExtrema(float64(v))
}

// histogramValues turns a histogram point into at most maxEMFValues values:
// each observation becomes its bucket's midpoint, clamped to the point's
// min and max; with more observations, each non-empty bucket keeps a share
// in proportion (at least one value).
func histogramValues(p metricdata.HistogramDataPoint[float64]) []float64 {
	lo, hasMin := p.Min.Value()
	hi, hasMax := p.Max.Value()
	if !hasMin {
		lo = math.Inf(-1)
	}
	if !hasMax {
		hi = math.Inf(1)
	}
	var out []float64
	for i, c := range p.BucketCounts {
		if c == 0 {
			continue
		}
		lower, upper := lo, hi
		if i > 0 {
			lower = math.Max(lo, p.Bounds[i-1])
		}
		if i < len(p.Bounds) {
			upper = math.Min(hi, p.Bounds[i])
		}
		v := representative(lower, upper, p.Sum/float64(p.Count))
		n := c
		if p.Count > maxEMFValues {
			n = max(1, uint64(math.Round(float64(c)*maxEMFValues/float64(p.Count))))
		}
		for range n {
			out = append(out, v)
		}
	}
	if len(out) > maxEMFValues {
		out = out[:maxEMFValues]
	}
	return out
}

// representative is the midpoint of [lower, upper]; when a bound is
// unknown (infinite), the mean stands in.
func representative(lower, upper, mean float64) float64 {
	switch {
	case math.IsInf(lower, 0) && math.IsInf(upper, 0):
		return mean
	case math.IsInf(lower, 0):
		return upper
	case math.IsInf(upper, 0):
		return lower
	}
	return (lower + upper) / 2
}
