package bench

import (
	"fmt"
	"io"
)

// Units is the DynamoDB capacity a run consumed, priced by the meter from
// item sizes (not assumed), per step.
type Units struct {
	Steps int `json:"steps"`
	// WritePerStep is table plus index write request units.
	WritePerStep      float64 `json:"write_units_per_step"`
	TableWritePerStep float64 `json:"table_write_units_per_step"`
	IndexWritePerStep float64 `json:"index_write_units_per_step"`
	ReadPerStep       float64 `json:"read_units_per_step"`
	// WriteByKind is table write units per step by item kind (task, step,
	// context, dep_marker, blob, identity, …).
	WriteByKind  map[string]float64 `json:"write_units_per_step_by_kind"`
	WriteByIndex map[string]float64 `json:"index_write_units_per_step_by_index"`
	// IndexEntries is index entries written per step (a key change writes
	// two): what the indexes would cost, in units, were their entries under
	// 1 KB (a KEYS_ONLY or small INCLUDE projection).
	IndexEntries map[string]float64 `json:"index_entries_written_per_step_by_index"`
	WriteByOp    map[string]float64 `json:"table_write_units_per_step_by_operation"`
	ReadByKind   map[string]float64 `json:"read_units_per_step_by_kind"`
	ReadByOp     map[string]float64 `json:"read_units_per_step_by_operation"`
	// StepItemBytes is the average size of a step item when it completes;
	// StepHistoryBytes the part of it taken by its transition records.
	StepItemBytes    float64 `json:"step_item_bytes_at_completion"`
	StepHistoryBytes float64 `json:"step_history_bytes_at_completion"`
	// CompactWritePerStep is WritePerStep had the transition records
	// 20-byte names and one-byte keys (a what-if, not implemented).
	CompactWritePerStep float64        `json:"write_units_per_step_compact_history"`
	FailedWrites        int            `json:"failed_writes"`
	Unmetered           map[string]int `json:"unmetered_operations,omitempty"`
}

// perStep turns the meter's totals into a per-step report.
func (t unitTotals) perStep(steps int) Units {
	s := float64(steps)
	u := Units{Steps: steps, WriteByKind: map[string]float64{}, WriteByIndex: map[string]float64{}, IndexEntries: map[string]float64{}, WriteByOp: map[string]float64{},
		ReadByKind: map[string]float64{}, ReadByOp: map[string]float64{}, FailedWrites: t.failedWrites, Unmetered: t.unmetered}
	var table, index, read float64
	for k, v := range t.writeByKind {
		u.WriteByKind[k] = round2(v / s)
		table += v
	}
	for k, v := range t.indexWrite {
		u.WriteByIndex[k] = round2(v / s)
		index += v
	}
	for k, v := range t.indexItems {
		u.IndexEntries[k] = round2(v / s)
	}
	for k, v := range t.writeByOp {
		u.WriteByOp[k] = round2(v / s)
	}
	for k, v := range t.readByKind {
		u.ReadByKind[k] = round2(v / s)
	}
	for k, v := range t.readByOp {
		u.ReadByOp[k] = round2(v / s)
		read += v
	}
	u.TableWritePerStep, u.IndexWritePerStep = round2(table/s), round2(index/s)
	u.WritePerStep, u.ReadPerStep = round2((table+index)/s), round2(read/s)
	u.CompactWritePerStep = round2(t.compactWrite / s)
	u.StepItemBytes, u.StepHistoryBytes = mean(t.stepDoneBytes), mean(t.stepDoneHist)
	return u
}

func mean(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	n := 0
	for _, x := range xs {
		n += x
	}
	return round2(float64(n) / float64(len(xs)))
}

// snapshot returns a copy of the totals so far.
func (m *meter) snapshot() unitTotals {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.units
	c.writeByKind, c.writeByOp, c.indexWrite, c.indexItems = clone(c.writeByKind), clone(c.writeByOp), clone(c.indexWrite), clone(c.indexItems)
	c.readByKind, c.readByOp = clone(c.readByKind), clone(c.readByOp)
	c.unmetered = clone(c.unmetered)
	c.stepDoneBytes = append([]int(nil), c.stepDoneBytes...)
	c.stepDoneHist = append([]int(nil), c.stepDoneHist...)
	return c
}

func clone[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// printUnits writes the measured units.
func printUnits(w io.Writer, label string, u Units) {
	fmt.Fprintf(w, "DynamoDB request units per step, measured from item sizes (%s, %d steps):\n", label, u.Steps)
	fmt.Fprintf(w, "  write %.2f (table %.2f + indexes %.2f), read %.2f; with compact claim records too: write %.2f\n",
		u.WritePerStep, u.TableWritePerStep, u.IndexWritePerStep, u.ReadPerStep, u.CompactWritePerStep)
	line := func(name string, m map[string]float64) {
		fmt.Fprintf(w, "  %-22s", name)
		for _, k := range sortedKeys(m) {
			fmt.Fprintf(w, " %s %.2f;", k, m[k])
		}
		fmt.Fprintln(w)
	}
	line("write by item kind:", u.WriteByKind)
	line("write by index:", u.WriteByIndex)
	line("index entries written:", u.IndexEntries)
	line("write by operation:", u.WriteByOp)
	line("read by item kind:", u.ReadByKind)
	line("read by operation:", u.ReadByOp)
	fmt.Fprintf(w, "  step item at completion: %.0f bytes (%.0f of them transition records); failed writes %d\n",
		u.StepItemBytes, u.StepHistoryBytes, u.FailedWrites)
}
