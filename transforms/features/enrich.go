package features

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/internal/wire"
	"github.com/beamline/beamline/transforms/clean"
)

func init() {
	register.DoFn3x0[beam.EventTime, clean.Hit, func(beam.EventTime, Enriched)](&enrichFn{})
	register.Emitter2[beam.EventTime, Enriched]()
	beam.RegisterType(reflect.TypeOf((*Enriched)(nil)).Elem())
	beam.RegisterCoder(reflect.TypeOf((*Enriched)(nil)).Elem(), EncodeEnriched, DecodeEnriched)
}

// Enriched is a hit with what its URL, user agent and referrer mean.
type Enriched struct {
	Hit clean.Hit
	// Template is the first path template the hit's path matched, "" when none did (or the
	// request was not HTTP); Params are that template's parameters.
	Template string
	Params   []Param
	Ext      string // extension of the path, lower case, no dot
	Static   bool   // IsStatic
	// Browser, Version, OS, Device and Bot classify the user agent (ParseUserAgent).
	Browser string
	Version string
	OS      string
	Device  string
	Bot     bool
	// ReferrerHost is the referrer's host (ReferrerHost), "" for none.
	ReferrerHost string
}

// Enricher is the pure core of Enrich. It is safe for concurrent use.
type Enricher struct {
	templates *Templates // nil when there are none
}

// NewEnricher compiles path templates (none is allowed: then no hit gets a Template).
func NewEnricher(templates ...string) (*Enricher, error) {
	e := &Enricher{}
	if len(templates) > 0 {
		t, err := CompileTemplates(templates...)
		if err != nil {
			return nil, err
		}
		e.templates = t
	}
	return e, nil
}

// Enrich fills out from h. out.Params keeps its capacity, so a reused Enriched enriches
// without allocating; its strings are substrings of h's or constants.
func (e *Enricher) Enrich(h *clean.Hit, out *Enriched) {
	params := out.Params[:0]
	*out = Enriched{Hit: *h, Params: params}
	if h.Path != "" {
		path, _ := SplitPath(h.Path)
		if e.templates != nil {
			var i int
			if i, out.Params = e.templates.Match(path, params); i >= 0 {
				out.Template = e.templates.Template(i)
			}
		}
		out.Ext = Ext(path)
		out.Static = out.Ext != "" && staticSet[out.Ext]
	}
	ua := ParseUserAgent(h.UserAgent)
	out.Browser, out.Version, out.OS, out.Device, out.Bot = ua.Browser, ua.Version, ua.OS, ua.Device, ua.Bot
	out.ReferrerHost = ReferrerHost(h.Referer)
}

type enrichFn struct {
	Templates []string `json:"templates"`
	e         *Enricher
}

func (f *enrichFn) Setup() error {
	var err error
	f.e, err = NewEnricher(f.Templates...)
	return err
}

func (f *enrichFn) ProcessElement(ts beam.EventTime, h clean.Hit, emit func(beam.EventTime, Enriched)) {
	var out Enriched
	f.e.Enrich(&h, &out)
	emit(ts, out)
}

// Enrich adds what each hit means: the path template it matches and its parameters
// ("/items/{category}/{item}" → category, item; first listed template wins), the extension
// and static-or-dynamic, the browser, OS, device class and bot flag of its user agent, and
// its referrer's host. Templates that do not compile panic here, at construction.
// Enrichment never rejects a hit, so there is no dead output.
//
//	in:  PCollection<clean.Hit>
//	out: PCollection<features.Enriched> (timestamps kept)
//
//	hits, dead := clean.ParseAccessLog(s, "combined", recs)
//	pages := features.Enrich(s, hits, "/items/{category}/{item}", "/search")
func Enrich(s beam.Scope, hits beam.PCollection, templates ...string) beam.PCollection {
	if _, err := NewEnricher(templates...); err != nil {
		panic(fmt.Sprintf("features.Enrich: templates: %v", err))
	}
	s = s.Scope(fmt.Sprintf("features.Enrich(%d templates)", len(templates)))
	return beam.ParDo(s, &enrichFn{Templates: templates}, hits)
}

const enrichedCoderVersion = 1

// EncodeEnriched is the Beam coder for Enriched: the hit's own coder, then the features.
func EncodeEnriched(e Enriched) ([]byte, error) {
	hb, err := clean.EncodeHit(e.Hit)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(hb)+64+len(e.Template)+len(e.ReferrerHost))
	b = append(b, enrichedCoderVersion)
	b = wire.AppendString(b, string(hb))
	for _, s := range []string{e.Template, e.Ext, e.Browser, e.Version, e.OS, e.Device, e.ReferrerHost} {
		b = wire.AppendString(b, s)
	}
	var flags byte
	if e.Static {
		flags |= 1
	}
	if e.Bot {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(e.Params)))
	for _, p := range e.Params {
		b = wire.AppendString(b, p.Name)
		b = wire.AppendString(b, p.Value)
	}
	return b, nil
}

var errEnrichedCoder = errors.New("enriched coder: truncated or corrupt")

// DecodeEnriched is the Beam coder for Enriched.
func DecodeEnriched(b []byte) (Enriched, error) {
	if len(b) == 0 || b[0] != enrichedCoderVersion {
		return Enriched{}, errors.New("enriched coder: unknown version")
	}
	d := wire.Reader{B: b[1:]}
	var e Enriched
	hb := d.Bytes()
	for _, p := range []*string{&e.Template, &e.Ext, &e.Browser, &e.Version, &e.OS, &e.Device, &e.ReferrerHost} {
		*p = d.Str()
	}
	flags := d.Byte()
	e.Static, e.Bot = flags&1 != 0, flags&2 != 0
	if n := d.Uvarint(); n > uint64(len(d.B))/2 { // every parameter takes two bytes at least
		return Enriched{}, errEnrichedCoder
	} else if n > 0 {
		e.Params = make([]Param, n)
		for i := range e.Params {
			e.Params[i] = Param{Name: d.Str(), Value: d.Str()}
		}
	}
	if d.Err != nil {
		return Enriched{}, errEnrichedCoder
	}
	h, err := clean.DecodeHit(hb)
	if err != nil {
		return Enriched{}, err
	}
	e.Hit = h
	return e, nil
}
