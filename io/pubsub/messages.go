package pubsub

import (
	"context"
	"fmt"
	"maps"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn2x2[context.Context, record.Record, Message, error](&recordMessageFn{})
}

var reflectBytes = reflect.TypeOf([]byte(nil))

// Attribute keys Records sets on every message, so a subscriber can dedupe and route
// without parsing the data.
const (
	AttrRecordID = "record_id"
	AttrSource   = "source"
)

// Records turns clean records into messages: the data is the record as one JSON object (its
// metadata and parsed data, without the raw payload, as the files sinks write it), the
// attributes are the record's own plus record_id and source.
//
//	in:  PCollection<record.Record>
//	out: PCollection<pubsub.Message>
func Records(s beam.Scope, in beam.PCollection) beam.PCollection {
	s = s.Scope("pubsub.Records")
	return beam.ParDo(s, &recordMessageFn{}, in)
}

type recordMessageFn struct{}

func (recordMessageFn) ProcessElement(ctx context.Context, r record.Record) (Message, error) {
	attrs := make(map[string]string, len(r.Attributes)+2)
	maps.Copy(attrs, r.Attributes)
	attrs[AttrRecordID] = r.ID
	attrs[AttrSource] = r.Source
	r.Payload = nil
	b, err := r.AppendJSON(make([]byte, 0, 512))
	if err != nil {
		return Message{}, fmt.Errorf("pubsub.Records: encoding record %s: %w", r.ID, err)
	}
	return Message{Data: b, Attributes: attrs, ID: r.ID, Source: r.Source}, nil
}
