package resources

import (
	"errors"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix                            string
		table, orchestration, results, st string
	}{
		{"", "tasker-state", "tasker-orchestration", "tasker-results", "tasker-steps-billing_v2"},
		{"dev-1", "dev-1-state", "dev-1-orchestration", "dev-1-results", "dev-1-steps-billing_v2"},
	}
	for _, tt := range tests {
		n := Names{Prefix: tt.prefix}
		got := []string{n.StateTable(), n.OrchestrationQueue(), n.ResultsQueue(), n.StepQueue("billing_v2")}
		want := []string{tt.table, tt.orchestration, tt.results, tt.st}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("prefix %q: name %d = %q, want %q", tt.prefix, i, got[i], want[i])
			}
		}
	}
	if got := DLQName("tasker-results"); got != "tasker-results-dlq" {
		t.Errorf("DLQName = %q", got)
	}
}

func TestNamesValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"tasker", true},
		{"t-0a9f", true},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("a", 41), false},
		{"Tasker", false},
		{"dev_1", false},
		{"dev.1", false},
	}
	for _, tt := range tests {
		err := Names{Prefix: tt.prefix}.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidName)) {
			t.Errorf("Validate(%q) = %v, want ok=%v", tt.prefix, err, tt.ok)
		}
	}
}

func TestValidateNamespace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ns string
		ok bool
	}{
		{"billing", true},
		{"billing_v2", true},
		{strings.Repeat("n", 29), true},
		{strings.Repeat("n", 30), false},
		{"", false},
		{"billing-v2", false},
		{"Billing", false},
	}
	for _, tt := range tests {
		err := ValidateNamespace(tt.ns)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidName)) {
			t.Errorf("ValidateNamespace(%q) = %v, want ok=%v", tt.ns, err, tt.ok)
		}
	}
}

// The longest prefix and namespace must still give valid SQS queue names.
func TestLongestNamesFitSQS(t *testing.T) {
	t.Parallel()
	n := Names{Prefix: strings.Repeat("p", 40)}
	for _, q := range Queues(n, []string{strings.Repeat("n", 29)}) {
		for _, spec := range []QueueSpec{q, *q.DLQ} {
			if err := spec.Validate(); err != nil {
				t.Errorf("%s (%d chars): %v", spec.Name, len(spec.Name), err)
			}
		}
	}
}
