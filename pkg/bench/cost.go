package bench

// CostModel converts measured AWS requests and DynamoDB request units per
// step into dollars per million steps at AWS list prices (us-east-1,
// on-demand; see docs/performance.md for the sources and the assumptions).
// The DynamoDB figures come from the meter (item sizes); the "from request
// counts" ones are the older estimate that assumed every item under 1 KB,
// kept for comparison.
type CostModel struct {
	SQSUSDPerMillion    float64 `json:"sqs_usd_per_million_steps"`
	DynamoUSDPerMillion float64 `json:"dynamodb_usd_per_million_steps"`
	LambdaUSDPerMillion float64 `json:"lambda_usd_per_million_steps"`
	TotalUSDPerMillion  float64 `json:"total_usd_per_million_steps"`
	WriteUnitsPerStep   float64 `json:"write_units_per_step"`
	ReadUnitsPerStep    float64 `json:"read_units_per_step"`
	Measured            bool    `json:"units_measured"`
	CountWriteUnits     float64 `json:"write_units_per_step_from_request_counts"`
	CountReadUnits      float64 `json:"read_units_per_step_from_request_counts"`
	CountDynamoUSD      float64 `json:"dynamodb_usd_per_million_steps_from_request_counts"`
	SQSRequestsPerStep  float64 `json:"sqs_requests_per_step"`
	LambdaMsPerStep     float64 `json:"lambda_ms_per_step"`
	// FirstCheck* are included in the figures above: each task's first
	// check, a check_task message delivered after the task has ended (most
	// arrive after a run ends, so they are modeled, not measured): one
	// receive and one delete (an upper bound: Lambda's poller batches
	// them), one strongly consistent read of the task item, one Lambda
	// invocation. Its send is measured with the task's requests.
	FirstCheckSQSPerStep       float64 `json:"first_check_sqs_requests_per_step"`
	FirstCheckReadUnitsPerStep float64 `json:"first_check_read_units_per_step"`
	StepFunctionsStandard      float64 `json:"step_functions_standard_usd_per_million_transitions"`
}

// List prices, us-east-1 (on-demand DynamoDB prices as cut in November 2024).
const (
	sqsPerMillionRequests = 0.40
	dynamoPerMillionWRU   = 0.625
	dynamoPerMillionRRU   = 0.125
	lambdaPerMillionReq   = 0.20
	lambdaArmPerGBSecond  = 0.0000133334
	lambdaMemoryGB        = 0.25 // the worker function applies results in process; its memory (infra) is 256 MB
	stepFunctionsStandard = 25.0
)

// Units each request costs if items stay under 1 KB write / 4 KB read, a
// transaction writes two items at twice the price and reads are strongly
// consistent: the request-count estimate, kept next to the measured units.
var writeUnits = map[string]float64{
	"DynamoDB.UpdateItem": 1, "DynamoDB.PutItem": 1, "DynamoDB.DeleteItem": 1, "DynamoDB.TransactWriteItems": 4,
}

var readUnits = map[string]float64{
	"DynamoDB.GetItem": 1, "DynamoDB.BatchGetItem": 2, "DynamoDB.Query": 1,
}

// costModel prices one step from its requests, its measured DynamoDB units
// (nil: fall back to the request-count estimate), the measured engine time
// per step (used as billed Lambda duration, one invocation per step: the
// worst case, no SQS batching) and the tasks per step (each task's first
// check, modeled).
func costModel(perStep map[string]float64, units *Units, msPerStep, tasksPerStep float64) CostModel {
	c := CostModel{LambdaMsPerStep: round2(msPerStep), StepFunctionsStandard: stepFunctionsStandard,
		FirstCheckSQSPerStep: round2(2 * tasksPerStep), FirstCheckReadUnitsPerStep: round2(tasksPerStep)}
	for op, n := range perStep {
		switch {
		case len(op) > 4 && op[:4] == "SQS.":
			c.SQSRequestsPerStep += n
		case writeUnits[op] > 0:
			c.CountWriteUnits += n * writeUnits[op]
		case readUnits[op] > 0:
			c.CountReadUnits += n * readUnits[op]
		}
	}
	c.CountDynamoUSD = round2(c.CountWriteUnits*dynamoPerMillionWRU + c.CountReadUnits*dynamoPerMillionRRU)
	c.WriteUnitsPerStep, c.ReadUnitsPerStep = c.CountWriteUnits, c.CountReadUnits
	if units != nil && units.Steps > 0 {
		c.Measured = true
		c.WriteUnitsPerStep, c.ReadUnitsPerStep = units.WritePerStep, units.ReadPerStep
	}
	c.SQSRequestsPerStep += 2 * tasksPerStep
	c.ReadUnitsPerStep += tasksPerStep
	c.SQSUSDPerMillion = round2(c.SQSRequestsPerStep * sqsPerMillionRequests)
	c.DynamoUSDPerMillion = round2(c.WriteUnitsPerStep*dynamoPerMillionWRU + c.ReadUnitsPerStep*dynamoPerMillionRRU)
	gbSeconds := lambdaMemoryGB * msPerStep / 1000 * 1e6
	c.LambdaUSDPerMillion = round2((1+tasksPerStep)*lambdaPerMillionReq + gbSeconds*lambdaArmPerGBSecond)
	c.TotalUSDPerMillion = round2(c.SQSUSDPerMillion + c.DynamoUSDPerMillion + c.LambdaUSDPerMillion)
	c.SQSRequestsPerStep, c.WriteUnitsPerStep, c.ReadUnitsPerStep = round2(c.SQSRequestsPerStep), round2(c.WriteUnitsPerStep), round2(c.ReadUnitsPerStep)
	c.CountWriteUnits, c.CountReadUnits = round2(c.CountWriteUnits), round2(c.CountReadUnits)
	return c
}
