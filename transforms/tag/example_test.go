package tag_test

import (
	"fmt"
	"time"

	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func ExampleStamper() {
	src := tag.Source{Name: "web_a", Kind: "web_event", Format: "json", Glob: "web/*.jsonl", Attributes: map[string]string{"site": "a"}}
	st := tag.Stamper{Source: src, Now: func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }}

	line := record.Record{Payload: []byte(`{"event_id":"a-1"}`), Origin: "web/events-1.jsonl", Offset: 1}
	msg := record.Record{ID: "pubsub-msg-42", Payload: []byte(`{"event_id":"a-2"}`), Attributes: map[string]string{"site": "a-eu"}}
	st.Stamp(&line)
	st.Stamp(&msg)
	fmt.Println(line.ID, line.Source, line.Kind, line.SchemaVersion, line.Attributes["site"], line.IngestTime.Format(time.RFC3339))
	fmt.Println(msg.ID, msg.Attributes["site"])
	// Output:
	// cff5febb5947eabdd00fe7afb8562885 web_a web_event 1 a 2026-11-22T10:00:00Z
	// pubsub-msg-42 a-eu
}
