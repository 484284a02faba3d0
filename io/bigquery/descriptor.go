package bigquery

import (
	"fmt"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// wireSchema is the schema as the rows are sent: DATE, DATETIME, TIME, NUMERIC and JSON
// columns travel as strings (BigQuery's Storage Write API accepts strings for each; the
// emulator stores DATE from an int32 as a timestamp), and TIMESTAMP as a string for the
// emulator (see encoding).
func wireSchema(s bigquery.Schema, enc encoding) bigquery.Schema {
	out := make(bigquery.Schema, len(s))
	for i, f := range s {
		g := *f
		switch g.Type {
		case bigquery.DateFieldType, bigquery.DateTimeFieldType, bigquery.TimeFieldType,
			bigquery.NumericFieldType, bigquery.BigNumericFieldType, bigquery.JSONFieldType:
			g.Type = bigquery.StringFieldType
		case bigquery.TimestampFieldType:
			if enc.emulator {
				g.Type = bigquery.StringFieldType
			}
		case bigquery.RecordFieldType:
			g.Schema = wireSchema(f.Schema, enc)
		}
		g.Required = false
		out[i] = &g
	}
	return out
}

// descriptor returns the protobuf descriptor of p's rows as sent (normalised, so it is
// self-contained as AppendRows requires) and the message descriptor to decode them.
func (p *plan) descriptor(enc encoding) (*descriptorpb.DescriptorProto, protoreflect.MessageDescriptor, error) {
	ts, err := adapt.BQSchemaToStorageTableSchema(wireSchema(p.schema, enc))
	if err != nil {
		return nil, nil, fmt.Errorf("bigquery: converting the schema of %v: %w", p.typ, err)
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(ts, "row")
	if err != nil {
		return nil, nil, fmt.Errorf("bigquery: building the protobuf descriptor of %v: %w", p.typ, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, nil, fmt.Errorf("bigquery: the descriptor of %v is not a message", p.typ)
	}
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		return nil, nil, fmt.Errorf("bigquery: normalising the descriptor of %v: %w", p.typ, err)
	}
	return dp, md, nil
}

// number assigns the protobuf field numbers from the descriptor: adapt numbers fields by
// position, and looking them up by name keeps that an observation rather than an assumption.
func (p *plan) number(md protoreflect.MessageDescriptor) error {
	for i := range p.cols {
		c := &p.cols[i]
		fd := md.Fields().ByName(protoreflect.Name(c.name))
		if fd == nil {
			return fmt.Errorf("bigquery: column %s of %v is missing from its descriptor", c.name, p.typ)
		}
		c.num = int32(fd.Number())
		if c.sub != nil {
			if err := c.sub.number(fd.Message()); err != nil {
				return err
			}
		}
	}
	return nil
}
