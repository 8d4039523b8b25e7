package delivery

import "time"

// EventType is the Standard Webhooks event type of a delivered report.
const EventType = "report.received"

// Payload is the JSON body of a delivery, as specified in
// docs/delivery.md: the relay sends it, the hotline's intake reads it.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is a delivered report: its envelope and the routing metadata the
// relay knows. Nothing about the reporter.
type Data struct {
	ID       string    `json:"id"`
	Hotline  string    `json:"hotline"`
	Site     string    `json:"site"`
	Received time.Time `json:"received"`
	// Envelope is the age file, standard base64.
	Envelope []byte `json:"envelope"`
}
