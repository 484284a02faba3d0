package clean

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

// StageParseAccessLog is the stage name of ParseAccessLog in failures and counters.
const StageParseAccessLog = "clean.ParseAccessLog"

func init() {
	register.DoFn5x0[context.Context, beam.EventTime, record.Record, func(beam.EventTime, Hit), func(record.Failure)](&accessLogFn{})
	register.Emitter2[beam.EventTime, Hit]()
	beam.RegisterType(reflect.TypeOf((*Hit)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Hit)(nil)).Elem(), EncodeHit, DecodeHit)
}

// AccessLogParser is the pure core of ParseAccessLog: the byte-level checks every clean
// parser applies, then the format. Not safe for concurrent use (it reuses h.Extra).
type AccessLogParser struct {
	Format *LogFormat
	// MaxBytes rejects longer lines as too_large; 0 means DefaultMaxBytes, -1 no limit.
	MaxBytes int
}

// ParseRecord parses r's payload into h and stamps h with r's source, origin, line and id.
// A line ending in "\r" (a CRLF file) is read without it. Rejections: empty_record,
// too_large, nul_byte, control_char, invalid_utf8 (as Parse), log_comment for a line starting
// with '#', and the LogError reasons (log_syntax:<field>, bad_time, bad_status,
// bad_number:<field>).
func (p *AccessLogParser) ParseRecord(r *record.Record, h *Hit) *Error {
	line := r.Payload
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	maxBytes := p.MaxBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := CheckBytes(line, maxBytes, false); err != nil {
		return err
	}
	if line[0] == '#' {
		return reject(ReasonLogComment, nil, "comment line")
	}
	if err := p.Format.ParseBytes(line, h); err != nil {
		var le *LogError
		if errors.As(err, &le) {
			return reject(le.ReasonCode(), le, "%v", le)
		}
		return reject(ReasonLogSyntax, err, "%v", err)
	}
	h.Source, h.Origin, h.Line, h.RecordID = r.Source, r.Origin, r.Offset, r.ID
	return nil
}

type accessLogFn struct {
	Format   string `json:"format"`
	MaxBytes int    `json:"max_bytes,omitempty"`
	p        AccessLogParser
	h        Hit
	step
}

func (f *accessLogFn) Setup() error {
	lf, err := CompileLogFormat(f.Format)
	if err != nil {
		return err
	}
	f.p = AccessLogParser{Format: lf, MaxBytes: f.MaxBytes}
	return nil
}

func (f *accessLogFn) ProcessElement(ctx context.Context, ts beam.EventTime, r record.Record, ok func(beam.EventTime, Hit), dead func(record.Failure)) {
	// h is reused for its Extra slice; what is emitted is a copy that owns its own Extra.
	if err := f.p.ParseRecord(&r, &f.h); err != nil {
		f.fail(ctx, StageParseAccessLog, &r, err, dead)
		return
	}
	f.pass(ctx, StageParseAccessLog, &r)
	h := f.h
	if len(h.Extra) > 0 {
		h.Extra = append([]Field(nil), h.Extra...)
	} else {
		h.Extra = nil
	}
	if !h.Time.IsZero() {
		ts = mtime.FromTime(h.Time)
	}
	ok(ts, h)
}

// AccessLogOption adjusts ParseAccessLog.
type AccessLogOption func(*accessLogFn)

// AccessLogMaxBytes sets the longest line accepted; 0 means DefaultMaxBytes, -1 no limit.
func AccessLogMaxBytes(n int) AccessLogOption { return func(f *accessLogFn) { f.MaxBytes = n } }

// ParseAccessLog parses each record's payload — one access-log line — with format (a name
// such as "combined" or "nginx", or an Apache LogFormat / nginx log_format string; see
// CompileLogFormat) into a Hit timestamped with the hit's time. Lines that do not parse go
// to dead with their reason and line number (Failure.Offset). A format that does not compile
// panics here, at construction.
//
//	in:   PCollection<record.Record>   (tag.Lines / files.Read: one line each, Offset = line number)
//	ok:   PCollection<clean.Hit>       (element timestamp = Hit.Time)
//	dead: PCollection<record.Failure>
//
// ok is typed rather than record.Record with Data: a hit has a fixed shape, and the map form
// would cost some twenty allocations a line and lose the types (time, int64) analytics
// need. Each Hit keeps its record's Source, Origin, Line and RecordID, so a later stage can
// still point at the line; the payload itself is not carried.
//
//	hits, dead := clean.ParseAccessLog(s, "combined", recs)
func ParseAccessLog(s beam.Scope, format string, in beam.PCollection, opts ...AccessLogOption) (ok, dead beam.PCollection) {
	if _, err := CompileLogFormat(format); err != nil {
		panic(fmt.Sprintf("clean.ParseAccessLog: format: %v", err))
	}
	fn := &accessLogFn{Format: format}
	for _, o := range opts {
		o(fn)
	}
	name := format
	if len(name) > 40 {
		name = name[:40] + "…"
	}
	s = s.Scope(fmt.Sprintf("clean.ParseAccessLog(%s)", name))
	return beam.ParDo2(s, fn, in)
}

// hitCoderVersion 2 writes the time as seconds and nanoseconds (1 wrote UnixNano).
const hitCoderVersion = 2

// maxZoneOffset bounds the offsets DecodeHit accepts, well past any a layout reads (time.Parse
// takes up to ±24:59).
const maxZoneOffset = 7 * 24 * 3600

// EncodeHit is the Beam coder for Hit: length-prefixed strings and varints, cheaper than
// the default schema coder and able to carry the time's offset.
func EncodeHit(h Hit) ([]byte, error) {
	n := 64 + len(h.Host) + len(h.Ident) + len(h.User) + len(h.Request) + len(h.Method) + len(h.Path) +
		len(h.Protocol) + len(h.Referer) + len(h.UserAgent) + len(h.VHost) + len(h.RemoteIP) + len(h.LocalIP) +
		len(h.Source) + len(h.Origin) + len(h.RecordID)
	for _, f := range h.Extra {
		n += 4 + len(f.Name) + len(f.Value)
	}
	b := make([]byte, 0, n)
	b = append(b, hitCoderVersion)
	for _, s := range []string{h.Host, h.Ident, h.User, h.Request, h.Method, h.Path, h.Protocol, h.Referer,
		h.UserAgent, h.VHost, h.RemoteIP, h.LocalIP, h.Source, h.Origin, h.RecordID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if h.Time.IsZero() {
		b = append(b, 0)
	} else {
		// Seconds and nanoseconds apart: UnixNano only holds the years 1678 to 2262, and a log
		// line may say 0001 or 9999.
		_, off := h.Time.Zone()
		b = append(b, 1)
		b = binary.AppendVarint(b, h.Time.Unix())
		b = binary.AppendUvarint(b, uint64(h.Time.Nanosecond()))
		b = binary.AppendVarint(b, int64(off))
	}
	for _, v := range []int64{int64(h.Status), h.Bytes, int64(h.Duration), h.BytesIn, h.BytesOut, int64(h.Port), h.Line} {
		b = binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(h.Extra)))
	for _, f := range h.Extra {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		b = binary.AppendUvarint(b, uint64(len(f.Value)))
		b = append(b, f.Value...)
	}
	return b, nil
}

// DecodeHit is the Beam coder for Hit. The strings of the result share one allocation.
func DecodeHit(b []byte) (Hit, error) {
	if len(b) == 0 || b[0] != hitCoderVersion {
		return Hit{}, errors.New("hit coder: unknown version")
	}
	all := string(b) // one copy; every string below is a slice of it
	d := hitDecoder{s: all, i: 1}
	var h Hit
	for _, p := range []*string{&h.Host, &h.Ident, &h.User, &h.Request, &h.Method, &h.Path, &h.Protocol, &h.Referer,
		&h.UserAgent, &h.VHost, &h.RemoteIP, &h.LocalIP, &h.Source, &h.Origin, &h.RecordID} {
		*p = d.str()
	}
	if d.byte() == 1 {
		sec, ns, off := d.varint(), d.uvarint(), d.varint()
		// EncodeHit writes ns < 1e9, a second time.Unix keeps, a bounded offset, and no zero time.
		if t := time.Unix(sec, int64(ns)); ns >= 1e9 || t.Unix() != sec || t.IsZero() || off <= -maxZoneOffset || off >= maxZoneOffset {
			d.bad = true
		} else {
			h.Time = t.In(zoneAt(int(off)))
		}
	}
	h.Status = int(d.varint())
	h.Bytes = d.varint()
	h.Duration = time.Duration(d.varint())
	h.BytesIn = d.varint()
	h.BytesOut = d.varint()
	h.Port = int(d.varint())
	h.Line = d.varint()
	if n := d.uvarint(); n > uint64(len(all)-d.i)/2 { // every field takes two bytes at least
		d.bad = true
	} else if n > 0 {
		h.Extra = make([]Field, n)
		for i := range h.Extra {
			h.Extra[i] = Field{Name: d.str(), Value: d.str()}
		}
	}
	if d.bad {
		return Hit{}, errors.New("hit coder: truncated or corrupt")
	}
	return h, nil
}

type hitDecoder struct {
	s   string
	i   int
	bad bool
}

func (d *hitDecoder) byte() byte {
	if d.i >= len(d.s) {
		d.bad = true
		return 0
	}
	d.i++
	return d.s[d.i-1]
}

func (d *hitDecoder) uvarint() uint64 {
	v, n := binary.Uvarint([]byte(d.s[d.i:min(len(d.s), d.i+binary.MaxVarintLen64)]))
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *hitDecoder) varint() int64 {
	v, n := binary.Varint([]byte(d.s[d.i:min(len(d.s), d.i+binary.MaxVarintLen64)]))
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *hitDecoder) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.s)-d.i) {
		d.bad = true
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}
