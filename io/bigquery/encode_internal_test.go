package bigquery

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

type benchAddress struct {
	City string `json:"city"`
	Zip  string `json:"zip"`
}

type benchItem struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

type benchOrder struct {
	ID        int64        `json:"id"`
	Customer  string       `json:"customer"`
	Amount    int64        `json:"amount" numeric:"2"`
	CreatedAt time.Time    `json:"created_at"`
	Tags      []string     `json:"tags"`
	Address   benchAddress `json:"address"`
	Items     []benchItem  `json:"items"`
	Note      *string      `json:"note"`
	Score     float64      `json:"score"`
	Paid      bool         `json:"paid"`
}

func benchOrderOf(i int64) benchOrder {
	note := "gift"
	return benchOrder{ID: i, Customer: fmt.Sprintf("customer-%d", i%997), Amount: -1234 + i,
		CreatedAt: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC).Add(time.Duration(i) * time.Millisecond),
		Tags:      []string{"a", "b"}, Address: benchAddress{City: "Lyon", Zip: "69001"},
		Items: []benchItem{{SKU: "sku-1", Qty: 2}, {SKU: "sku-2", Qty: 1}}, Note: &note, Score: 0.5, Paid: true}
}

// toDynamic builds the dynamicpb message of row v by reflection: the alternative encoder.
func toDynamic(p *plan, md protoreflect.MessageDescriptor, v reflect.Value, enc encoding) *dynamicpb.Message {
	m := dynamicpb.NewMessage(md)
	for i := range p.cols {
		c := &p.cols[i]
		fd := md.Fields().ByNumber(protoreflect.FieldNumber(c.num))
		fv := c.field(v)
		one := func(ev reflect.Value) protoreflect.Value {
			switch c.kind {
			case kString:
				return protoreflect.ValueOfString(ev.String())
			case kInt:
				return protoreflect.ValueOfInt64(ev.Int())
			case kFloat:
				return protoreflect.ValueOfFloat64(ev.Float())
			case kBool:
				return protoreflect.ValueOfBool(ev.Bool())
			case kTimestamp:
				t := ev.Interface().(time.Time)
				if enc.emulator {
					return protoreflect.ValueOfString(t.UTC().Format(emulatorTimestamp))
				}
				return protoreflect.ValueOfInt64(t.UnixMicro())
			case kNumericInt:
				return protoreflect.ValueOfString(formatMinor(ev.Int(), c.scale))
			case kRecord:
				return protoreflect.ValueOfMessage(toDynamic(c.sub, fd.Message(), ev, enc))
			}
			panic(fmt.Sprintf("kind %d", c.kind))
		}
		switch {
		case c.repeated:
			l := m.Mutable(fd).List()
			for j := range fv.Len() {
				l.Append(one(fv.Index(j)))
			}
		case c.ptr:
			if !fv.IsNil() {
				m.Set(fd, one(fv.Elem()))
			}
		default:
			m.Set(fd, one(fv))
		}
	}
	return m
}

// TestEncodeMatchesDynamicpb decodes the wire bytes with the descriptor sent to BigQuery and
// compares them with the message dynamicpb builds from the same row, in both encodings.
func TestEncodeMatchesDynamicpb(t *testing.T) {
	for _, enc := range []encoding{{}, {emulator: true}} {
		p, err := planOf(reflect.TypeFor[benchOrder]())
		if err != nil {
			t.Fatal(err)
		}
		_, md, err := p.descriptor(enc)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int64{0, 1, 99999} {
			row := benchOrderOf(i)
			if i == 1 {
				row.Note, row.Tags, row.Items = nil, nil, nil
			}
			v := reflect.ValueOf(&row).Elem()
			b, err := p.appendProto(nil, v, enc)
			if err != nil {
				t.Fatal(err)
			}
			got := dynamicpb.NewMessage(md)
			if err := proto.Unmarshal(b, got); err != nil {
				t.Fatalf("decoding the encoding of order %d: %v", i, err)
			}
			want := toDynamic(p, md, v, enc)
			if !proto.Equal(got, want) {
				t.Errorf("encoding of order %d (emulator %v) decodes to\n%v\nwant\n%v", i, enc.emulator, protojson.Format(got), protojson.Format(want))
			}
		}
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		units int64
		scale int
		want  string
	}{
		{1234, 2, "12.34"}, {-1234, 2, "-12.34"}, {5, 2, "0.05"}, {-5, 3, "-0.005"}, {0, 2, "0.00"},
		{42, 0, "42"}, {math.MinInt64, 2, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := formatMinor(tt.units, tt.scale); got != tt.want {
			t.Errorf("formatMinor(%d, %d) = %q, want %q", tt.units, tt.scale, got, tt.want)
		}
	}
}

// BenchmarkEncode compares three ways from a struct to the protobuf bytes of a row:
// straight to wire bytes (what Write uses), reflection into dynamicpb then proto.Marshal, and
// a JSON round trip (BigQuery-typed JSON, protojson into dynamicpb, proto.Marshal). The JSON
// route only works with the emulator's string TIMESTAMPs: protojson cannot turn RFC 3339
// text into the int64 microseconds BigQuery wants, nor minor units into NUMERIC text.
func BenchmarkEncode(b *testing.B) {
	p, _ := planOf(reflect.TypeFor[benchOrder]())
	row := benchOrderOf(7)
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			v, p, _ := rowValue(row)
			var err error
			if buf, err = p.appendProto(buf[:0], v, encoding{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dynamicpb", func(b *testing.B) {
		b.ReportAllocs()
		_, md, _ := p.descriptor(encoding{})
		for b.Loop() {
			v, _, _ := rowValue(row)
			if _, err := proto.Marshal(toDynamic(p, md, v, encoding{})); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json_roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		_, md, _ := p.descriptor(encoding{emulator: true})
		for b.Loop() {
			v, _, _ := rowValue(row)
			js, err := p.appendJSON(nil, v)
			if err != nil {
				b.Fatal(err)
			}
			m := dynamicpb.NewMessage(md)
			if err := protojson.Unmarshal(js, m); err != nil {
				b.Fatal(err)
			}
			if _, err := proto.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
