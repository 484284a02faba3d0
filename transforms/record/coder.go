package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/beamline/beamline/internal/jsonx"
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
	b = appendString(b, r.ID)
	b = appendString(b, r.Source)
	b = appendString(b, r.Kind)
	b = binary.AppendVarint(b, int64(r.SchemaVersion))
	b = appendMap(b, r.Attributes)
	b = appendString(b, r.Origin)
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
	d := decoder{b: b}
	if v := d.byte(); v != recordCoderVersion && d.err == nil {
		return Record{}, fmt.Errorf("record coder: version %d, want %d", v, recordCoderVersion)
	}
	var r Record
	r.ID = d.string()
	r.Source = d.string()
	r.Kind = d.string()
	r.SchemaVersion = int(d.varint())
	r.Attributes = d.stringMap()
	r.Origin = d.string()
	r.Offset = d.varint()
	r.IngestTime = d.time()
	r.EventTime = d.time()
	r.Payload = d.bytes()
	r.Header = d.bytes()
	data := d.bytes()
	if d.err != nil {
		return Record{}, fmt.Errorf("record coder: %w", d.err)
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
	b = appendString(b, f.Stage)
	b = appendString(b, f.Source)
	b = appendString(b, f.RecordID)
	b = appendString(b, f.Reason)
	b = appendString(b, f.Message)
	b = appendString(b, f.Origin)
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
	d := decoder{b: b}
	if v := d.byte(); v != failureCoderVersion && d.err == nil {
		return Failure{}, fmt.Errorf("failure coder: version %d, want %d", v, failureCoderVersion)
	}
	var f Failure
	f.Time = d.time()
	f.Stage = d.string()
	f.Source = d.string()
	f.RecordID = d.string()
	f.Reason = d.string()
	f.Message = d.string()
	f.Origin = d.string()
	f.Offset = d.varint()
	f.PayloadBytes = d.bytes()
	if d.byte() == 1 {
		f.PayloadString = string(f.PayloadBytes)
	}
	f.Attributes = d.stringMap()
	if d.err != nil {
		return Failure{}, fmt.Errorf("failure coder: %w", d.err)
	}
	return f, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
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
		b = appendString(b, k)
		b = appendString(b, m[k])
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

var errShort = errors.New("truncated input")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) string() string { return string(d.take(d.uvarint())) }

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	p := d.take(n - 1)
	if d.err != nil {
		return nil
	}
	return append([]byte{}, p...)
}

func (d *decoder) stringMap() map[string]string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	m := make(map[string]string, n-1)
	for i := uint64(0); i < n-1 && d.err == nil; i++ {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

func (d *decoder) time() time.Time {
	if d.byte() == 0 {
		return time.Time{}
	}
	s := d.varint()
	ns := d.uvarint()
	return time.Unix(s, int64(ns)).UTC()
}
