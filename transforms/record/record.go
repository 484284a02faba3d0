// Package record holds the two types every Beamline stage speaks: Record, one input element
// with its source and ingest metadata, and Failure, the dead-letter row a stage emits instead
// of dropping a record it cannot handle.
package record

import (
	"time"
	"unicode/utf8"
)

// Record is one input element as it moves through tag and clean.
//
// tag fills the metadata and Payload; clean.Parse fills Data from Payload; later steps read and
// rewrite Data and EventTime. Payload is never changed after tag, so a failure at any stage can
// carry the original bytes to the dead letter.
type Record struct {
	ID            string            `json:"id"`
	Source        string            `json:"source"`
	Kind          string            `json:"kind,omitempty"`
	SchemaVersion int               `json:"schema_version,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	// Origin is where the record was read: a file path or a subscription.
	Origin string `json:"origin,omitempty"`
	// Offset is the 1-based line number within Origin at which the record starts, for files
	// (a CSV record may span lines); 0 when unknown.
	Offset     int64     `json:"offset,omitempty"`
	IngestTime time.Time `json:"ingest_time"`
	EventTime  time.Time `json:"event_time,omitzero"`
	Payload    []byte    `json:"payload,omitempty"`
	// Header is the header line of the CSV file the record came from, if the source has one.
	Header []byte `json:"-"`
	// Data is the parsed document: JSON-like values (string, json.Number, bool, nil, []any,
	// map[string]any, and int64 after money normalisation).
	Data map[string]any `json:"data,omitempty"`
}

// Attributes a reader sets on a record it read but could not frame (io/files: a record over
// the size limit, a UTF-16 file, a truncated gzip stream, …). The record still flows, so it is
// counted as read, and the first parser (clean.Parse, via clean.ReadError) sends it to the dead
// letter with AttrReadError as the reason code and AttrReadMessage as the message.
const (
	AttrReadError   = "beamline.read_error"
	AttrReadMessage = "beamline.read_message"
)

// Failure is the dead-letter row: what failed, where, why, and the original input.
// Its columns are a superset of the error tables of Google's Dataflow templates
// (timestamp, attributes, payloadString, payloadBytes, errorMessage).
type Failure struct {
	Time     time.Time `json:"time"`
	Stage    string    `json:"stage"`
	Source   string    `json:"source"`
	RecordID string    `json:"record_id,omitempty"`
	// Reason is a short stable code (json_syntax, missing_field:order_id, bad_timestamp, …)
	// that dashboards and alerts can group by; Message is for people.
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Origin  string `json:"origin,omitempty"`
	Offset  int64  `json:"offset,omitempty"`
	// PayloadBytes is the original input; PayloadString repeats it when it is valid UTF-8.
	PayloadBytes  []byte            `json:"payload_bytes"`
	PayloadString string            `json:"payload_string,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
}

// Fail builds the Failure for r at stage with a reason code and message.
// The Failure time is the wall-clock time of the decision.
func Fail(stage string, r *Record, reason, message string) Failure {
	f := Failure{
		Time:         time.Now().UTC(),
		Stage:        stage,
		Source:       r.Source,
		RecordID:     r.ID,
		Reason:       reason,
		Message:      message,
		Origin:       r.Origin,
		Offset:       r.Offset,
		PayloadBytes: r.Payload,
		Attributes:   r.Attributes,
	}
	if utf8.Valid(r.Payload) {
		f.PayloadString = string(r.Payload)
	}
	return f
}

// BaseReason is the reason code without its detail: "missing_field:order_id" → "missing_field".
func BaseReason(reason string) string {
	for i := 0; i < len(reason); i++ {
		if reason[i] == ':' {
			return reason[:i]
		}
	}
	return reason
}
