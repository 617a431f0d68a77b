package chaos

import (
	"encoding/json"
	"math/rand/v2"

	"github.com/tasker-go/tasker/pkg/statemachine"
)

// job is one task the harness creates and the state it must end in.
type job struct {
	Seq       int
	Namespace string
	Name      string
	Context   map[string]any
	Want      statemachine.TaskState
	UUID      string
}

func (j *job) contextJSON() json.RawMessage {
	ctx := map[string]any{fieldSeq: j.Seq}
	for k, v := range j.Context {
		ctx[k] = v
	}
	b, _ := json.Marshal(ctx)
	return b
}

// shape builds one kind of task from the acceptance templates.
type shape func(r *rand.Rand, failRate float64) job

var (
	complete = statemachine.TaskComplete
	failed   = statemachine.TaskError
)

// shapes are the task shapes of the workload, drawn with equal weight.
var shapes = []shape{
	linear, linear, // the cheapest shape, drawn twice as often
	func(r *rand.Rand, failRate float64) job {
		return graph(r, failRate, "acceptance_diamond", "diamond_pattern",
			[]string{"diamond_start", "diamond_branch_b", "diamond_branch_c", "diamond_end"})
	},
	func(r *rand.Rand, failRate float64) job {
		return graph(r, failRate, "acceptance_tree", "hierarchical_tree",
			[]string{"tree_root", "tree_branch_left", "tree_leaf_e", "tree_leaf_g", "tree_final_convergence"})
	},
	approval, batch, retry,
}

func linear(r *rand.Rand, _ float64) job {
	n := 2 + 2*r.IntN(10)
	want := complete
	if r.IntN(6) == 0 {
		n, want = n+1, failed // odd: linear_step_1 fails permanently
	}
	return job{Namespace: "acceptance_linear", Name: "mathematical_sequence", Context: map[string]any{"even_number": n}, Want: want}
}

// graph is a diamond or a tree; a seeded fraction get a step that fails
// permanently.
func graph(r *rand.Rand, failRate float64, ns, name string, steps []string) job {
	j := job{Namespace: ns, Name: name, Context: map[string]any{"even_number": 2 + 2*r.IntN(5)}, Want: complete}
	if r.Float64() < failRate {
		j.Context[fieldFailStep] = steps[r.IntN(len(steps))]
		j.Want = failed
	}
	return j
}

func approval(r *rand.Rand, _ float64) job {
	amounts := []int{0, 500, 1000, 5000}
	a := amounts[r.IntN(len(amounts))]
	want := complete
	if a == 0 {
		want = failed // validate_request rejects it permanently
	}
	return job{Namespace: "acceptance_conditional", Name: "approval_routing", Context: map[string]any{"amount": a}, Want: want}
}

func batch(r *rand.Rand, _ float64) job {
	sizes := []int{500, 3000, 5000}
	return job{Namespace: "acceptance_batch", Name: "large_dataset_processor",
		Context: map[string]any{"dataset_size": sizes[r.IntN(len(sizes))]}, Want: complete}
}

func retry(r *rand.Rand, _ float64) job {
	if r.IntN(2) == 0 {
		return job{Namespace: "acceptance_retry", Name: "retry_mechanics", Want: complete}
	}
	return job{Namespace: "acceptance_retry", Name: "retry_exhaustion", Want: failed}
}

// workload returns n jobs drawn from the seed.
func workload(seed uint64, n int, failRate float64) []*job {
	r := rand.New(rand.NewPCG(seed, 2))
	jobs := make([]*job, n)
	for i := range jobs {
		j := shapes[r.IntN(len(shapes))](r, failRate)
		j.Seq = i
		jobs[i] = &j
	}
	return jobs
}
