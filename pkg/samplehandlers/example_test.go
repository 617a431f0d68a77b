package samplehandlers_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/worker"
)

// A worker registers the sample handlers once; each step's callable then
// resolves to one of them. Results too large for an int64 come back as
// decimal strings.
func ExampleRegister() {
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)

	h, _ := reg.Lookup("math.square_parents_product")
	res, err := h.Handle(context.Background(), &worker.Step{
		Name: "tree_final_convergence",
		Parents: map[string]json.RawMessage{
			"tree_leaf_d": json.RawMessage(`{"result": 1679616}`),
			"tree_leaf_e": json.RawMessage(`{"result": 1679616}`),
			"tree_leaf_f": json.RawMessage(`{"result": 1679616}`),
			"tree_leaf_g": json.RawMessage(`{"result": "1679616"}`),
		},
	})
	fmt.Println(string(res.Data), err)

	h, _ = reg.Lookup("approval.route_by_amount")
	res, err = h.Handle(context.Background(), &worker.Step{
		Name:    "routing_decision",
		Context: json.RawMessage(`{"amount": 5000}`),
	})
	fmt.Println(string(res.Data), err)
	// Output:
	// {"result":"63340286662973277706162286946811886609896461828096"} <nil>
	// {"amount":5000,"decision_point_outcome":{"type":"create_steps","step_names":["manager_approval","finance_review"]},"route_type":"dual_approval"} <nil>
}

// RegisterWith and a Recorder let a test see how often each step ran and
// whether two steps overlapped.
func ExampleRegisterWith() {
	rec := &samplehandlers.Recorder{}
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptanceWith(reg, samplehandlers.Options{Recorder: rec})

	h, _ := reg.Lookup("faults.fail_n_times")
	for attempt := 1; attempt <= 3; attempt++ {
		_, err := h.Handle(context.Background(), &worker.Step{
			TaskUUID: "t-1", Name: "fail_twice_then_succeed", Attempt: attempt,
			Config: json.RawMessage(`{"fail_count": 2}`),
		})
		fmt.Println(attempt, err)
	}
	fmt.Println(len(rec.StepRuns("t-1", "fail_twice_then_succeed")), "runs recorded")
	// Output:
	// 1 attempt 1 of 2 planned failures
	// 2 attempt 2 of 2 planned failures
	// 3 <nil>
	// 3 runs recorded
}
