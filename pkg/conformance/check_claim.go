package conformance

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Formats of the claim write (docs/protocol.md §5).
var (
	sortableTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$`)
	historyNamePattern  = regexp.MustCompile(`^h_\d{8}T\d{6}\.\d{9}_[0-9a-f]{16}_\d{2}$`)
)

// claimSleep is how long the claimed step runs, so its in-progress item can
// be read while the handler works.
const claimSleep = 1500

// testClaimWrite reads the step item while the handler runs and checks the
// claim's writes: state, attempts, claim times, the deadline (and no sweep
// shard), and the history record.
func (s *suite) testClaimWrite(t *testing.T) {
	t.Parallel()
	task := s.create(t, "slow", map[string]any{"sleep_ms": claimSleep})
	st := stepByName(t, task, "slow")
	if err := s.worker.waitEffect(deadline(t, taskDeadline), st.StepUUID, 1); err != nil {
		t.Fatal(err)
	}
	item := s.stepItem(t, task.TaskUUID, "slow")
	checkClaimItem(t, item, task.TaskUUID, "slow", 20*time.Second)
	done := s.wait(t, task.TaskUUID)
	expectStatus(t, done, "complete")
	sameJSON(t, "slow's result", s.step(t, done, "slow").Results, []byte(fmt.Sprintf(`{"slept_ms":%d}`, claimSleep)))
}

// stepItem reads a step's item from the state table (strongly consistent).
func (s *suite) stepItem(t *testing.T, taskUUID, stepName string) map[string]types.AttributeValue {
	t.Helper()
	out, err := s.stack.DynamoDB.GetItem(deadline(t, 10*time.Second), &dynamodb.GetItemInput{
		TableName: aws.String(s.stack.Names.StateTable()), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "T#" + taskUUID},
			"sk": &types.AttributeValueMemberS{Value: "S#" + stepName},
		}})
	if err != nil {
		t.Fatalf("read step item %s: %v", stepName, err)
	}
	if out.Item == nil {
		t.Fatalf("step item %s of task %s does not exist", stepName, taskUUID)
	}
	return out.Item
}

func checkClaimItem(t *testing.T, item map[string]types.AttributeValue, taskUUID, stepName string, timeout time.Duration) {
	t.Helper()
	if got := attrS(item, "st"); got != "in_progress" {
		t.Fatalf("st = %q while the handler runs, want in_progress", got)
	}
	if got := attrN(item, "attempts"); got != "1" {
		t.Errorf("attempts = %q, want 1", got)
	}
	claimed, err := time.Parse(time.RFC3339Nano, attrS(item, "claimed_at"))
	if err != nil {
		t.Fatalf("claimed_at %q: %v", attrS(item, "claimed_at"), err)
	}
	for _, name := range []string{"updated_at", "last_attempted_at"} {
		if got := attrS(item, name); got != attrS(item, "claimed_at") {
			t.Errorf("%s = %q, want the claim time %q", name, got, attrS(item, "claimed_at"))
		}
	}
	if _, ok := item["next_retry_at"]; ok {
		t.Error("next_retry_at is still set; the claim removes it")
	}
	if _, ok := item["sweep_shard"]; ok {
		t.Error("sweep_shard is set; the claim writes its deadline (sweep_at) only, so the step stays out of the sweep index")
	}
	due := attrS(item, "sweep_at")
	if !sortableTimePattern.MatchString(due) {
		t.Errorf("sweep_at = %q, want YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", due)
	} else if dueAt, _ := time.Parse(time.RFC3339Nano, due); dueAt.Sub(claimed.Add(timeout+30*time.Second)).Abs() > time.Second {
		t.Errorf("sweep_at = %s, want claim time %s + timeout %s + 30 s", due, claimed.Format(time.RFC3339Nano), timeout)
	}
	checkClaimHistory(t, item, attrS(item, "claimed_at"))
}

// checkClaimHistory finds the claim's transition record and checks its name
// and fields.
func checkClaimHistory(t *testing.T, item map[string]types.AttributeValue, claimedAt string) {
	t.Helper()
	for name, v := range item {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok || len(name) < 2 || name[:2] != "h_" || attrS(m.Value, "event") != "start" {
			continue
		}
		if !historyNamePattern.MatchString(name) {
			t.Errorf("history attribute %q: want h_<YYYYMMDDTHHMMSS.nnnnnnnnn>_<16 hex>_<2 digits>", name)
		}
		if attrS(m.Value, "from") != "enqueued" || attrS(m.Value, "to") != "in_progress" || attrN(m.Value, "attempt") != "1" {
			t.Errorf("claim record %s: from %q to %q attempt %q, want enqueued → in_progress, attempt 1",
				name, attrS(m.Value, "from"), attrS(m.Value, "to"), attrN(m.Value, "attempt"))
		}
		if attrS(m.Value, "at") != claimedAt {
			t.Errorf("claim record %s: at %q, want the claim time %q", name, attrS(m.Value, "at"), claimedAt)
		}
		for k := range m.Value {
			switch k {
			case "from", "to", "event", "attempt", "at", "processor", "correlation_id":
			default:
				t.Errorf("claim record %s has unknown key %q", name, k)
			}
		}
		return
	}
	t.Error("the claim wrote no history record with event \"start\"")
}

// checkPendingClaim checks the records of a claim from pending: an enqueue
// record (pending → enqueued, attempt 1, at no later than the claim, no other
// keys) and the start record, both of one write (same name but the index).
func checkPendingClaim(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	var enqueue, start string
	for name, v := range item {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok || !strings.HasPrefix(name, "h_") {
			continue
		}
		switch attrS(m.Value, "event") {
		case "enqueue":
			enqueue = name
			if attrS(m.Value, "from") != "pending" || attrS(m.Value, "to") != "enqueued" || attrN(m.Value, "attempt") != "1" {
				t.Errorf("enqueue record %s: from %q to %q attempt %q, want pending → enqueued, attempt 1",
					name, attrS(m.Value, "from"), attrS(m.Value, "to"), attrN(m.Value, "attempt"))
			}
			if at, err := time.Parse(time.RFC3339Nano, attrS(m.Value, "at")); err != nil || at.After(mustTime(t, attrS(item, "claimed_at"))) {
				t.Errorf("enqueue record %s: at %q, want a time no later than the claim %q", name, attrS(m.Value, "at"), attrS(item, "claimed_at"))
			}
			for k := range m.Value {
				switch k {
				case "from", "to", "event", "attempt", "at":
				default:
					t.Errorf("enqueue record %s has unexpected key %q", name, k)
				}
			}
		case "start":
			start = name
		}
	}
	switch {
	case enqueue == "" || start == "":
		t.Errorf("a claim from pending wrote records enqueue %q and start %q, want both (the worker must read from_state)", enqueue, start)
	case !strings.HasSuffix(enqueue, "_00") || !strings.HasSuffix(start, "_01") || enqueue[:len(enqueue)-3] != start[:len(start)-3]:
		t.Errorf("records %s and %s: want one write's names, indexes 00 (enqueue) and 01 (start)", enqueue, start)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrN(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}
