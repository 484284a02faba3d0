package record

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/internal/wire"
)

// Records cross every fused-stage boundary, so they get a compact length-prefixed binary coder
// instead of Beam's default: it is cheaper than JSON, and Beam's schema coder cannot encode
// map[string]any. Data, the only free-form part, is nested JSON.

func init() {
	beam.RegisterType(reflect.TypeOf((*Record)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Failure)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Record)(nil)).Elem(), EncodeRecord, DecodeRecord)
	beam.RegisterCoder(reflect.TypeOf((*Failure)(nil)).Elem(), EncodeFailure, DecodeFailure)
}

const (
	recordCoderVersion  = 1
	failureCoderVersion = 1
)

// EncodeRecord is the Beam coder for Record.
func EncodeRecord(r Record) ([]byte, error) {
	return AppendRecord(make([]byte, 0, 128+len(r.ID)+len(r.Source)+len(r.Origin)+2*len(r.Payload)+len(r.Header)), r)
}

// AppendRecord appends r's EncodeRecord encoding to b: a caller that collects many records
// (clean.Dedupe's batches) writes them in place, without a buffer per record.
func AppendRecord(b []byte, r Record) ([]byte, error) {
	b = append(b, recordCoderVersion)
	b = wire.AppendString(b, r.ID)
	b = wire.AppendString(b, r.Source)
	b = wire.AppendString(b, r.Kind)
	b = binary.AppendVarint(b, int64(r.SchemaVersion))
	b = appendMap(b, r.Attributes)
	b = wire.AppendString(b, r.Origin)
	b = binary.AppendVarint(b, r.Offset)
	b = appendTime(b, r.IngestTime)
	b = appendTime(b, r.EventTime)
	b = appendBytes(b, r.Payload)
	b = appendBytes(b, r.Header)
	if r.Data == nil {
		return append(b, 0), nil
	}
	// Data is last, as appendBytes would write it, but encoded in place: room for the longest
	// length prefix first, then the JSON, then the prefix written and the JSON moved up to it.
	at := len(b)
	b = append(b, make([]byte, binary.MaxVarintLen64)...)
	b, err := jsonx.AppendObjectUnordered(b, r.Data)
	if err != nil {
		return nil, fmt.Errorf("record %q: encoding Data: %w", r.ID, err)
	}
	data := len(b) - at - binary.MaxVarintLen64
	n := len(binary.AppendUvarint(b[at:at], uint64(data)+1))
	copy(b[at+n:], b[at+binary.MaxVarintLen64:])
	return b[:at+n+data], nil
}

// DecodeRecord is the Beam coder for Record.
func DecodeRecord(b []byte) (Record, error) {
	d := decoder{wire.Reader{B: b}}
	if v := d.Byte(); v != recordCoderVersion && d.Err == nil {
		return Record{}, fmt.Errorf("record coder: version %d, want %d", v, recordCoderVersion)
	}
	var r Record
	r.ID = d.Str()
	r.Source = d.Str()
	r.Kind = d.Str()
	r.SchemaVersion = int(d.Varint())
	r.Attributes = d.stringMap()
	r.Origin = d.Str()
	r.Offset = d.Varint()
	r.IngestTime = d.time()
	r.EventTime = d.time()
	r.Payload = d.bytes()
	r.Header = d.bytes()
	data := d.bytes()
	if d.Err != nil {
		return Record{}, fmt.Errorf("record coder: %w", d.Err)
	}
	if data != nil {
		if err := DecodeData(data, &r.Data); err != nil {
			return Record{}, fmt.Errorf("record coder: Data of %q: %w", r.ID, err)
		}
	}
	return r, nil
}

// DecodeData decodes a JSON object into m keeping numbers exact (json.Number), as Parse does.
func DecodeData(b []byte, m *map[string]any) error {
	v, err := jsonx.DecodeObject(b)
	*m = v
	return err
}

// EncodeFailure is the Beam coder for Failure.
func EncodeFailure(f Failure) ([]byte, error) {
	b := make([]byte, 0, 64+len(f.Stage)+len(f.Source)+len(f.RecordID)+len(f.Reason)+len(f.Message)+len(f.Origin)+len(f.PayloadBytes))
	b = append(b, failureCoderVersion)
	b = appendTime(b, f.Time)
	b = wire.AppendString(b, f.Stage)
	b = wire.AppendString(b, f.Source)
	b = wire.AppendString(b, f.RecordID)
	b = wire.AppendString(b, f.Reason)
	b = wire.AppendString(b, f.Message)
	b = wire.AppendString(b, f.Origin)
	b = binary.AppendVarint(b, f.Offset)
	b = appendBytes(b, f.PayloadBytes)
	// PayloadString is derived from PayloadBytes; one bit says whether it is set.
	if f.PayloadString != "" {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendMap(b, f.Attributes)
	return b, nil
}

// DecodeFailure is the Beam coder for Failure.
func DecodeFailure(b []byte) (Failure, error) {
	d := decoder{wire.Reader{B: b}}
	if v := d.Byte(); v != failureCoderVersion && d.Err == nil {
		return Failure{}, fmt.Errorf("failure coder: version %d, want %d", v, failureCoderVersion)
	}
	var f Failure
	f.Time = d.time()
	f.Stage = d.Str()
	f.Source = d.Str()
	f.RecordID = d.Str()
	f.Reason = d.Str()
	f.Message = d.Str()
	f.Origin = d.Str()
	f.Offset = d.Varint()
	f.PayloadBytes = d.bytes()
	if d.Byte() == 1 {
		f.PayloadString = string(f.PayloadBytes)
	}
	f.Attributes = d.stringMap()
	if d.Err != nil {
		return Failure{}, fmt.Errorf("failure coder: %w", d.Err)
	}
	return f, nil
}

// appendBytes distinguishes nil (0) from empty (1) so a round trip keeps both.
func appendBytes(b, p []byte) []byte {
	if p == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

// appendMap writes keys sorted so equal records encode to equal bytes (Beam compares
// encoded keys when grouping).
func appendMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = wire.AppendString(b, k)
		b = wire.AppendString(b, m[k])
	}
	return b
}

// appendTime writes 0 for the zero time, else 1 + seconds and nanoseconds (UTC).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// decoder reads the fields EncodeRecord and EncodeFailure write; wire.Reader reads the
// plain ones.
type decoder struct{ wire.Reader }

// bytes reads what appendBytes wrote, as a copy: nil stays nil, empty stays empty.
func (d *decoder) bytes() []byte {
	n := d.Uvarint()
	if n == 0 {
		return nil
	}
	p := d.Take(n - 1)
	if d.Err != nil {
		return nil
	}
	return append([]byte{}, p...)
}

func (d *decoder) stringMap() map[string]string {
	n := d.Uvarint()
	if n == 0 || d.Err != nil {
		return nil
	}
	if n-1 > uint64(len(d.B))/2 { // every entry takes two bytes at least
		d.Err = wire.ErrShort
		return nil
	}
	m := make(map[string]string, n-1)
	for i := uint64(0); i < n-1 && d.Err == nil; i++ {
		k := d.Str()
		m[k] = d.Str()
	}
	return m
}

func (d *decoder) time() time.Time {
	if d.Byte() == 0 {
		return time.Time{}
	}
	s := d.Varint()
	ns := d.Uvarint()
	// appendTime writes ns < 1e9 and a second time.Unix keeps: anything else is corrupt,
	// and would decode to a time that encodes differently.
	t := time.Unix(s, int64(ns)).UTC()
	if d.Err == nil && (ns >= 1e9 || t.Unix() != s) {
		d.Err = wire.ErrShort
		return time.Time{}
	}
	return t
}
