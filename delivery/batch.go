package delivery

import "time"

// BatchEventType is the Standard Webhooks event type of a delivery that
// carries several reports at once (docs/delivery.md, "Batched
// deliveries").
const BatchEventType = "report.batch"

// BatchHeader is the response header by which an intake says, in each of
// its 2xx answers, that it takes batched deliveries, and how many reports
// one may hold at most (a decimal number, at least 2). A relay sends a
// hotline batches only while its intake's last 2xx answer carried it.
const BatchHeader = "Reportline-Batch"

// MaxBatch bounds what an intake may announce in [BatchHeader]: a relay
// caps larger figures at this.
const MaxBatch = 256

// Batch is the JSON body of a batched delivery. Its webhook-id is made
// for the attempt (a UUID) and is not a report id; its Timestamp is the
// attempt time, as in a [Payload].
type Batch struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      BatchData `json:"data"`
}

// BatchData holds a batch's reports, each as the data of a single
// delivery would, in no particular order and each report once.
type BatchData struct {
	Deliveries []Data `json:"deliveries"`
}

// BatchAnswer is the body of an intake's 200 answer to a batch: one result
// per report of the batch, in the batch's order.
type BatchAnswer struct {
	// ID is the batch's webhook-id.
	ID      string        `json:"id"`
	Results []BatchResult `json:"results"`
}

// BatchResult is the outcome of one report of a batch: what the intake
// would have answered a single delivery of it.
type BatchResult struct {
	// ID is the report id.
	ID string `json:"id"`
	// Status is the HTTP status a single delivery would have got: 200
	// once the report is stored (or was already), else the problem's.
	Status int `json:"status"`
	// Result is "stored" or "duplicate" for a 200.
	Result string `json:"result,omitempty"`
	// Problem, for any other status, is the problem a single delivery
	// would have got (RFC 9457 members type, title, status, detail).
	Problem *BatchProblem `json:"problem,omitempty"`
}

// BatchProblem is a problem details object inside a [BatchResult].
type BatchProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}
