package bench

import "testing"

// TestCostModelCountsFirstChecks: each task's first check (a check_task
// message, mostly delivered after a run ends) is priced per step as one
// receive and one delete, one read unit and one Lambda invocation per task.
func TestCostModelCountsFirstChecks(t *testing.T) {
	perStep := map[string]float64{"SQS.SendMessage": 1, "DynamoDB.UpdateItem": 2}
	units := &Units{Steps: 6, WritePerStep: 4, ReadPerStep: 3}
	without := costModel(perStep, units, 1, 0)
	with := costModel(perStep, units, 1, 0.5)
	if with.SQSRequestsPerStep != without.SQSRequestsPerStep+1 || with.ReadUnitsPerStep != without.ReadUnitsPerStep+0.5 ||
		with.WriteUnitsPerStep != without.WriteUnitsPerStep {
		t.Fatalf("with checks %+v, without %+v", with, without)
	}
	if with.FirstCheckSQSPerStep != 1 || with.FirstCheckReadUnitsPerStep != 0.5 {
		t.Fatalf("first check figures %+v", with)
	}
	if with.LambdaUSDPerMillion <= without.LambdaUSDPerMillion || with.TotalUSDPerMillion <= without.TotalUSDPerMillion {
		t.Fatalf("the checks cost nothing: %+v vs %+v", with, without)
	}
}
