// Package tag turns raw input — file lines or messages — into record.Record values stamped
// with their source, kind, schema version, ingest time, static attributes and a stable ID.
//
//	recs := tag.Lines(s, src, lines)      // PCollection<string>
//	recs := tag.Records(s, src, raw)      // PCollection<record.Record> from io readers
//
// Tag never rejects input: byte-level checks (empty, too large, invalid UTF-8, NUL) belong to
// clean.Parse, which has a dead-letter output.
package tag

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn2x1[context.Context, record.Record, record.Record](&tagFn{})
	register.DoFn2x1[context.Context, string, record.Record](&lineFn{})
}

// Stamper is the pure core of tag: it fills the metadata of one record.
type Stamper struct {
	Source Source
	// Now returns the ingest time; nil means time.Now.
	Now func() time.Time
}

// Stamp fills r's source metadata. A record that already has an ID (a message id from the
// reader) keeps it; otherwise its ID is ContentID. Attributes the record brought with it
// (message attributes) win over the source's static ones of the same key.
func (st *Stamper) Stamp(r *record.Record) {
	src := &st.Source
	r.Source = src.Name
	r.Kind = src.Kind
	r.SchemaVersion = src.SchemaVersion
	if r.SchemaVersion == 0 {
		r.SchemaVersion = 1
	}
	if r.IngestTime.IsZero() {
		if st.Now != nil {
			r.IngestTime = st.Now().UTC()
		} else {
			r.IngestTime = time.Now().UTC()
		}
	}
	if r.ID == "" {
		r.ID = ContentID(src.Name, r.Payload)
	}
	if len(src.Attributes) > 0 {
		attrs := maps.Clone(src.Attributes)
		maps.Copy(attrs, r.Attributes)
		r.Attributes = attrs
	}
}

// ContentID is the stable ID of a payload without a message id: the first 128 bits of
// SHA-256 over the source name and the payload, in hex. Identical payloads of one source get
// the same ID (so redelivered lines dedupe); the same payload in two sources does not.
func ContentID(source string, payload []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(payload)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Stage is the stage name tag counts its records under: <source>/tag/read.
const Stage = "tag"

type tagFn struct {
	Source Source `json:"source"`
	st     *Stamper
	read   beam.Counter
}

func (f *tagFn) Setup() {
	f.st = &Stamper{Source: f.Source}
	f.read = beam.NewCounter(record.MetricNamespace, record.CounterName(f.Source.Name, Stage, record.OutcomeRead, ""))
}

func (f *tagFn) ProcessElement(ctx context.Context, r record.Record) record.Record {
	f.st.Stamp(&r)
	f.read.Inc(ctx, 1)
	return r
}

type lineFn struct{ tagFn }

func (f *lineFn) ProcessElement(ctx context.Context, line string) record.Record {
	return f.tagFn.ProcessElement(ctx, record.Record{Payload: []byte(line)})
}

// Records stamps records read by an io reader (Payload, Origin, Offset and, for messages,
// ID and Attributes already set) with src's metadata.
//
//	in:  PCollection<record.Record>
//	out: PCollection<record.Record>
func Records(s beam.Scope, src Source, in beam.PCollection) beam.PCollection {
	mustValid(src)
	s = s.Scope(fmt.Sprintf("tag.Records(%s)", src.Name))
	return beam.ParDo(s, &tagFn{Source: src}, in)
}

// Lines turns plain lines into records of src.
//
//	in:  PCollection<string>
//	out: PCollection<record.Record>
func Lines(s beam.Scope, src Source, in beam.PCollection) beam.PCollection {
	mustValid(src)
	s = s.Scope(fmt.Sprintf("tag.Lines(%s)", src.Name))
	return beam.ParDo(s, &lineFn{tagFn{Source: src}}, in)
}

func mustValid(src Source) {
	// Only the fields tag itself uses are required here, so ad-hoc sources in tests and
	// user code need no glob; LoadSources validates whole definitions.
	if !nameRE.MatchString(src.Name) {
		panic(fmt.Sprintf("tag: source name %q must be 1-64 characters of a-z, 0-9, _ or -", src.Name))
	}
}
