package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/engine"
)

// fakeAPI stands in for a deployed API: it answers POST /v1/tasks with a
// task and every GET of that task with the task complete.
func fakeAPI() *httptest.Server {
	task := api.TaskResponse{TaskUUID: "0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a00", Namespace: "billing", Name: "invoice",
		Version: "1.0.0", Status: "steps_in_process", Tags: []string{}}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/tasks":
			var req engine.TaskRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Namespace != "billing" {
				w.WriteHeader(http.StatusNotFound)
				_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorDetail{
					Code: api.CodeTemplateNotFound, Message: "no template is registered as " + req.Namespace + "/" + req.Name}})
				return
			}
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(task)
		case r.Method == http.MethodGet && r.URL.Path == "/v1/tasks/"+task.TaskUUID:
			done := task
			done.Status, done.TotalSteps, done.CompletedSteps, done.CompletionPercentage = "complete", 3, 3, 100
			_ = json.NewEncoder(w).Encode(done)
		default:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorDetail{Code: api.CodeNotFound, Message: "no route"}})
		}
	}))
}

func Example() {
	srv := fakeAPI()
	defer srv.Close()
	ctx := context.Background()

	c := client.New(srv.URL, client.WithAPIKey("secret"))
	task, err := c.CreateTask(ctx, engine.TaskRequest{
		Namespace: "billing", Name: "invoice", Context: json.RawMessage(`{"customer_id": 42}`),
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("created:", task.Status)

	final, err := c.WaitForTask(ctx, task.TaskUUID, 0)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("final: %s (%d/%d steps, %.0f%%)\n", final.Status, final.CompletedSteps, final.TotalSteps, final.CompletionPercentage)
	// Output:
	// created: steps_in_process
	// final: complete (3/3 steps, 100%)
}

func ExampleAPIError() {
	srv := fakeAPI()
	defer srv.Close()

	c := client.New(srv.URL)
	_, err := c.CreateTask(context.Background(), engine.TaskRequest{Namespace: "shipping", Name: "label"})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code)
		fmt.Println(apiErr.Message)
	}
	// Output:
	// 404 template_not_found
	// no template is registered as shipping/label
}

// operationsAPI stands in for a deployed API during an incident: a task
// whose charge_card step failed, and the dead-letter queue's counts.
func operationsAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPatch && r.URL.Path == "/v1/tasks/0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a00/workflow_steps/0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a01":
			var a api.StepManualAction
			if err := json.NewDecoder(r.Body).Decode(&a); err != nil || a.CompletionData == nil {
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorDetail{Code: api.CodeInvalidRequest, Message: "completion_data: required"}})
				return
			}
			_ = json.NewEncoder(w).Encode(api.StepResponse{Name: "charge_card", CurrentState: "complete", Results: a.CompletionData.Result})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/dlq/stats":
			_ = json.NewEncoder(w).Encode(api.DLQStats{TotalEntries: 3, Pending: 1, ManuallyResolved: 2})
		default:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorDetail{Code: api.CodeNotFound, Message: "no route"}})
		}
	}))
}

// An operator completes a failed step by hand with the result its
// dependents need; the API then re-drives the task.
func ExampleClient_CompleteStep() {
	srv := operationsAPI()
	defer srv.Close()
	c := client.New(srv.URL)

	step, err := c.CompleteStep(context.Background(),
		"0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a00", "0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a01",
		map[string]any{"charge_id": "ch_123", "captured": true},
		"charged by phone", "ops@example.com")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(step.Name, step.CurrentState, string(step.Results))
	// Output:
	// charge_card complete {"captured":true,"charge_id":"ch_123"}
}

func ExampleClient_DLQStats() {
	srv := operationsAPI()
	defer srv.Close()

	stats, err := client.New(srv.URL).DLQStats(context.Background())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%d pending of %d\n", stats.Pending, stats.TotalEntries)
	// Output:
	// 1 pending of 3
}
