package clean

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/internal/fusion"
	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn4x0[context.Context, record.Record, func([]byte, record.Record), func(record.Failure)](&dedupeKeyFn{})
	register.DoFn6x1[context.Context, beam.EventTime, record.Record, func(beam.EventTime, []byte), func(int, positions), func(record.Failure), error](&positionFn{})
	register.DoFn3x0[int, func(*positions) bool, func([]byte)](&losersFn{})
	register.DoFn4x1[beam.Window, []byte, func(*[]byte) bool, func([]byte), error](&markLosersFn{})
	register.DoFn4x1[context.Context, []byte, func(beam.EventTime, record.Record), func(record.Failure), error](&unbatchFn{})
	register.Emitter2[beam.EventTime, []byte]()
	register.Emitter1[[]byte]()
	register.Emitter2[int, positions]()
	register.Iter1[positions]()
	register.Iter1[[]byte]()
	register.DoFn8x0[context.Context, beam.EventTime, state.Provider, timers.Provider, []byte, record.Record, func(record.Record), func(record.Failure)](&dedupeStreamFn{})
	register.Emitter2[[]byte, record.Record]()
}

// DedupeKey returns the dedupe key of r: its source and the value at field, or its ID when
// field is empty. Sources are kept apart: the same order_id in two sources is two records.
//
// A string key is its text, as it is. A number key is its value in a canonical decimal
// form (CanonicalNumber), so 7, 7.0, 7e0 and 70e-1 are one key; and a string that is exactly
// that canonical text is the same key: "7" and 7 are one order, as producers that quote their
// ids and producers that do not mean. "7.0" and "007" are strings other than "7", so they are
// other keys. A boolean, null, object or array is no key: wrong_type:FIELD.
func DedupeKey(r *record.Record, field path) (string, *Error) {
	if field == nil {
		return r.Source + "\x00" + r.ID, nil
	}
	v, ok := field.get(r.Data)
	if !ok {
		return "", reject(fieldReason(ReasonMissingField, field.String()), nil, "dedupe key %s is missing", field)
	}
	var k string
	switch x := v.(type) {
	case string:
		k = x
	case jsonx.Number:
		c, ok := CanonicalNumber(string(x))
		if !ok {
			return "", reject(fieldReason(ReasonWrongType, field.String()), nil, "dedupe key %s = %.40q is not a decimal number", field, x)
		}
		k = c
	case int64:
		k = strconv.FormatInt(x, 10)
	case int:
		k = strconv.Itoa(x)
	case float64:
		c, ok := CanonicalNumber(strconv.FormatFloat(x, 'g', -1, 64))
		if !ok {
			return "", reject(fieldReason(ReasonWrongType, field.String()), nil, "dedupe key %s is %v, not a finite number", field, x)
		}
		k = c
	default:
		return "", reject(fieldReason(ReasonWrongType, field.String()), nil, "dedupe key %s is %s; a key must be a string or a number", field, typeName(v))
	}
	return r.Source + "\x00" + k, nil
}

// CanonicalNumber returns the canonical decimal text of the JSON number s: no sign for zero,
// no leading zeros, no trailing fraction zeros, no exponent while the plain form has at most
// 40 digits (7.0 → 7, 1.50 → 1.5, 1e3 → 1000, -0 → 0), and beyond that d.ddde±x. Equal
// values give equal text, whatever their spelling, without rounding: the digits are kept
// exactly. ok is false when s is not a JSON number.
func CanonicalNumber(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || i == 0 {
			return "", false
		}
		mant, exp = s[:i], e
	}
	digits := mant
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		digits = mant[:i] + mant[i+1:]
		exp -= len(mant) - i - 1
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", true
	}
	t := strings.TrimRight(digits, "0")
	exp += len(digits) - len(t)
	digits = t
	sign := ""
	if neg {
		sign = "-"
	}
	const plain = 40
	switch {
	case exp >= 0 && len(digits)+exp <= plain:
		return sign + digits + strings.Repeat("0", exp), true
	case exp < 0 && -exp < len(digits):
		at := len(digits) + exp
		return sign + digits[:at] + "." + digits[at:], true
	case exp < 0 && -exp-len(digits) < plain:
		return sign + "0." + strings.Repeat("0", -exp-len(digits)) + digits, true
	}
	// Scientific: one digit before the point; the exponent of the value's leading digit.
	lead := exp + len(digits) - 1
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "e" + strconv.Itoa(lead), true
}

// First reports whether a comes before b in input order: by origin and line, then event
// time, then ID, so the record Dedupe keeps does not depend on how the runner ordered them.
func First(a, b *record.Record) bool {
	oa, ob := orderOf(a), orderOf(b)
	return oa.before(&ob)
}

// inputOrder holds the fields First compares; batch Dedupe shuffles it inside position.
type inputOrder struct {
	Origin    string
	Offset    int64
	EventTime int64 // Unix nanoseconds; math.MinInt64 when the record has no event time
	RecordID  string
}

func orderOf(r *record.Record) inputOrder {
	et := int64(math.MinInt64)
	if !r.EventTime.IsZero() {
		et = r.EventTime.UnixNano()
	}
	return inputOrder{Origin: r.Origin, Offset: r.Offset, EventTime: et, RecordID: r.ID}
}

func (a *inputOrder) before(b *inputOrder) bool {
	switch {
	case a.Origin != b.Origin:
		return a.Origin < b.Origin
	case a.Offset != b.Offset:
		return a.Offset < b.Offset
	case a.EventTime != b.EventTime:
		return a.EventTime < b.EventTime
	}
	return a.RecordID < b.RecordID
}

func duplicate(stage, key string, dup *record.Record) record.Failure {
	if _, v, ok := strings.Cut(key, "\x00"); ok {
		key = v
	}
	return record.Fail(stage, dup, ReasonDuplicate, fmt.Sprintf("another record has dedupe key %q and was kept", key))
}

// keyField is the dedupe key configuration the dedupe DoFns share.
type keyField struct {
	Field string `json:"field"`
	path  path
}

func (k *keyField) Setup() {
	if k.Field != "" {
		k.path = splitPath(k.Field)
	}
}

type dedupeKeyFn struct {
	keyField
	step
}

// ProcessElement keys r by its dedupe key as bytes: a record ID is whatever its reader set,
// and a string key that is not valid UTF-8 would be rewritten by a runner that decodes
// strings (Flink's Java side replaces invalid bytes), merging or splitting keys.
func (f *dedupeKeyFn) ProcessElement(ctx context.Context, r record.Record, ok func([]byte, record.Record), dead func(record.Failure)) {
	k, err := DedupeKey(&r, f.path)
	if err != nil {
		f.fail(ctx, StageDedupe, &r, err, dead)
		return
	}
	ok([]byte(k), r)
}

// position is what the batch Dedupe shuffles instead of whole records: the dedupe key, the
// record's identity (which batch it waits in, and where in it) and its input-order fields.
type position struct {
	Key string
	// Ident is raw bytes (a batch id and a varint) in a string: positions has a byte coder
	// of its own, so it never crosses the runner as text; losersFn emits it as []byte.
	Ident string
	Order inputOrder
}

// dedupeShards is how many groups the positions are spread over: enough to share the work of
// finding duplicates among workers, few enough that each group is a handful of large elements.
const dedupeShards = 64

// flushPositions bounds the positions one DoFn instance holds before it emits them.
const flushPositions = 100_000

// recordsPerBatch is how many records travel together to the filter. The records wait there
// for the duplicates found, and a runner keeps per-element bookkeeping for everything waiting
// (prism: over a kilobyte an element), so they wait in batches, each one encoded element.
// Spilled batches are files, so they are larger.
const (
	recordsPerBatch      = 512
	recordsPerSpillBatch = 8192
)

// A batch element is its kind, its 16-byte id, then the encoded records themselves or the
// name of the file they were spilled to. Each record in it is its timestamp (varint) and its
// encoding (4-byte length first); its identity is the batch id and its index in the batch.
const (
	batchInline byte = 0
	batchSpill  byte = 1
	batchIDLen       = 16
	batchHeader      = 1 + batchIDLen
)

// positionFn passes records on in batches and collects their positions, emitting them in one
// batch per shard at the end of the bundle (or every flushPositions).
type positionFn struct {
	keyField
	SpillDir string `json:"spill_dir"`
	buf      [dedupeShards][]position
	n        int
	recs     []byte         // the records batch being filled, header first
	nrecs    int            // records in it
	minTS    beam.EventTime // the earliest of their timestamps
	// spare is the buffer of the last spilled batch, written out and free again; batchCap is
	// the size of the last batch, so a new one does not grow its way there from nothing.
	spare    []byte
	batchCap int
	rnd      *rand.ChaCha8
	step
}

func (f *positionFn) Setup() {
	f.keyField.Setup()
	var seed [32]byte
	crand.Read(seed[:])
	f.rnd = rand.NewChaCha8(seed)
}

func (f *positionFn) ProcessElement(ctx context.Context, ts beam.EventTime, r record.Record, recs func(beam.EventTime, []byte), batches func(int, positions), dead func(record.Failure)) error {
	k, err := DedupeKey(&r, f.path)
	if err != nil {
		f.fail(ctx, StageDedupe, &r, err, dead)
		return nil
	}
	if len(f.recs) == 0 {
		if f.spare != nil {
			f.recs, f.spare = f.spare[:batchHeader], nil
		} else {
			f.recs = make([]byte, batchHeader, max(64<<10, f.batchCap+f.batchCap/8))
		}
		f.rnd.Read(f.recs[1:batchHeader]) // 128 random bits: unique among the batches of a run
		f.minTS = ts
	}
	id := string(binary.AppendUvarint(f.recs[1:batchHeader:batchHeader], uint64(f.nrecs)))
	shard := int(fnv32a(k) % dedupeShards)
	f.buf[shard] = append(f.buf[shard], position{Key: k, Ident: id, Order: orderOf(&r)})
	if f.n++; f.n >= flushPositions {
		f.flush(batches)
	}
	f.minTS = min(f.minTS, ts)
	f.recs = binary.AppendVarint(f.recs, int64(ts))
	var encErr error
	if f.recs, encErr = appendRecord(f.recs, r); encErr != nil {
		return encErr
	}
	limit := recordsPerBatch
	if f.SpillDir != "" {
		limit = recordsPerSpillBatch
	}
	if f.nrecs++; f.nrecs >= limit {
		return f.flushRecords(ctx, recs)
	}
	return nil
}

// appendRecord appends r's coder encoding to b, its length first in 4 bytes (little endian),
// written once the encoding is in place.
func appendRecord(b []byte, r record.Record) ([]byte, error) {
	at := len(b)
	b, err := record.AppendRecord(append(b, 0, 0, 0, 0), r)
	if err != nil {
		return b[:at], err
	}
	if len(b)-at-4 > math.MaxUint32 {
		return b[:at], fmt.Errorf("clean.Dedupe: record %q encodes to over 4 GiB", r.ID)
	}
	binary.LittleEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b, nil
}

// cutRecord splits a record encoded by appendRecord off b; nil when b is too short.
func cutRecord(b []byte) ([]byte, []byte) {
	if len(b) < 4 {
		return nil, nil
	}
	l := uint64(binary.LittleEndian.Uint32(b))
	if uint64(len(b)-4) < l {
		return nil, nil
	}
	return b[4 : 4+l : 4+l], b[4+l:]
}

// flushRecords emits the batch being filled, or with a spill directory writes its records to
// a file there and emits the file's name. The batch carries the earliest timestamp of its
// records: unbatchFn gives each record its own timestamp back, and an output may be later
// than its input but never earlier, or the watermark downstream would pass records still in
// a batch and event-time windows would fire without them.
func (f *positionFn) flushRecords(ctx context.Context, recs func(beam.EventTime, []byte)) error {
	if f.nrecs == 0 {
		return nil
	}
	batch := f.recs
	f.recs, f.nrecs, f.batchCap = nil, 0, len(batch)
	if f.SpillDir == "" {
		batch[0] = batchInline
		recs(f.minTS, batch)
		return nil
	}
	name := strings.TrimSuffix(f.SpillDir, "/") + "/" + hex.EncodeToString(batch[1:batchHeader]) + ".records"
	if err := files.WriteFile(ctx, name, batch[batchHeader:]); err != nil {
		return fmt.Errorf("clean.Dedupe: spilling: %w", err)
	}
	spilled := append(batch[:batchHeader:batchHeader], name...) // a copy: batch is reused
	spilled[0] = batchSpill
	f.spare = batch[:0]
	recs(f.minTS, spilled)
	return nil
}

// fnv32a is FNV-1a over s, computed in place: the same on every worker, and no allocation per
// record as hash/fnv's Hash and a []byte conversion would cost.
func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func (f *positionFn) flush(batches func(int, positions)) {
	for i, b := range f.buf {
		if len(b) > 0 {
			batches(i, positions{b})
			f.buf[i] = nil
		}
	}
	f.n = 0
}

func (f *positionFn) FinishBundle(ctx context.Context, recs func(beam.EventTime, []byte), batches func(int, positions), _ func(record.Failure)) error {
	f.flush(batches)
	return f.flushRecords(ctx, recs)
}

// losersFn finds, per shard, the first position of every key and emits the others.
type losersFn struct{}

// The losers are emitted as []byte: an identity is 16 random bytes and a varint, not text, and
// as a string it would cross the runner as UTF-8, which a Java runner decodes and repairs
// (issue 19: on Flink no identity matched and every duplicate was kept).
func (losersFn) ProcessElement(_ int, batches func(*positions) bool, emit func([]byte)) {
	best := map[string]position{}
	var b positions
	for batches(&b) {
		for i := range b.P {
			p := b.P[i]
			cur, seen := best[p.Key]
			switch {
			case !seen:
				best[p.Key] = p
			case p.Order.before(&cur.Order):
				emit([]byte(cur.Ident))
				best[p.Key] = p
			default:
				emit([]byte(p.Ident))
			}
		}
	}
}

// markLosersFn puts in front of each batch the indexes of its records that lost to another
// record of the same key: a uvarint count, then the indexes in increasing order. It is the only
// step that reads the losers as a side input, and it does little, on purpose: prism's
// scheduler loops without pause while a stage with a side input has a bundle in flight (see
// internal/fusion), which cost a whole core while the records were decoded here. The decoding
// happens after a fusion.Break, in unbatchFn.
type markLosersFn struct {
	losers map[[batchIDLen]byte][]uint64
	window beam.Window // the window losers was read for
}

func (f *markLosersFn) ProcessElement(w beam.Window, batch []byte, losers func(*[]byte) bool, emit func([]byte)) error {
	if f.window == nil || !f.window.Equals(w) { // the side input is read once per window
		f.window = w
		f.losers = map[[batchIDLen]byte][]uint64{}
		var l []byte
		for losers(&l) {
			var id [batchIDLen]byte
			idx, n := binary.Uvarint(l[min(len(l), batchIDLen):])
			if len(l) < batchIDLen || n <= 0 {
				return fmt.Errorf("clean.Dedupe: corrupt record identity %q", l)
			}
			copy(id[:], l)
			f.losers[id] = append(f.losers[id], idx)
		}
		for _, idx := range f.losers {
			slices.Sort(idx)
		}
	}
	if len(batch) < batchHeader {
		return fmt.Errorf("clean.Dedupe: corrupt record batch")
	}
	lost := f.losers[[batchIDLen]byte(batch[1:batchHeader])]
	out := make([]byte, 0, len(batch)+binary.MaxVarintLen64*(1+len(lost)))
	out = binary.AppendUvarint(out, uint64(len(lost)))
	for _, idx := range lost {
		out = binary.AppendUvarint(out, idx)
	}
	emit(append(out, batch...))
	return nil
}

// unbatchFn decodes the records of a marked batch, reading them back from their spill file if
// need be, and passes each on with its own timestamp, or to dups if it lost.
type unbatchFn struct {
	keyField
	step
}

func (f *unbatchFn) ProcessElement(ctx context.Context, marked []byte, ok func(beam.EventTime, record.Record), dup func(record.Failure)) error {
	corrupt := fmt.Errorf("clean.Dedupe: corrupt record batch")
	nlost, n := binary.Uvarint(marked)
	if n <= 0 {
		return corrupt
	}
	marked = marked[n:]
	lost := make([]uint64, 0, min(nlost, 1024))
	for range nlost {
		idx, n := binary.Uvarint(marked)
		if n <= 0 {
			return corrupt
		}
		lost, marked = append(lost, idx), marked[n:]
	}
	if len(marked) < batchHeader {
		return corrupt
	}
	kind, batch := marked[0], marked[batchHeader:]
	if kind == batchSpill {
		var err error
		if batch, err = files.ReadAll(ctx, string(batch)); err != nil {
			return fmt.Errorf("clean.Dedupe: spilled records: %w", err)
		}
	}
	for i := uint64(0); len(batch) > 0; i++ {
		ts, n := binary.Varint(batch)
		if n <= 0 {
			return corrupt
		}
		var enc []byte
		if enc, batch = cutRecord(batch[n:]); enc == nil {
			return corrupt
		}
		r, err := record.DecodeRecord(enc)
		if err != nil {
			return err
		}
		if len(lost) > 0 && lost[0] == i {
			lost = lost[1:]
			k, _ := DedupeKey(&r, f.path)
			f.ctr.Inc(ctx, r.Source, StageDedupe, record.OutcomeDuplicate, "")
			dup(duplicate(StageDedupe, k, &r))
			continue
		}
		f.pass(ctx, StageDedupe, &r)
		ok(beam.EventTime(ts), r)
	}
	if len(lost) > 0 {
		return fmt.Errorf("clean.Dedupe: %d duplicates not found in their batch", len(lost))
	}
	return nil
}

// Dedupe keeps one record per (source, key field) across a bounded input — the first in input
// order (see First) — and sends the others to dups as Failures with reason "duplicate".
// An empty field dedupes by record ID. A record without the key goes to dups with
// missing_field:F, one whose key is not a string or number with wrong_type:F; numbers are
// compared by value (DedupeKey says how). Duplicates are counted as outcome "duplicate", not "dead".
//
// With SpillTo, the waiting records go to files in a directory instead, so a runner that keeps
// everything in memory (prism) holds only their names: the caller removes the directory after
// the run (pipelines/ingest does).
//
// Only small positions are grouped, batched per bundle into 64 shards: the records themselves
// are not shuffled. They wait, in batches of 512 encoded records, for the duplicates found,
// which reach them as a side input that stays small when duplicates are few; each keeps its
// element timestamp. Use it on batch input in the global window; DedupeStream suits
// unbounded input.
//
//	in, ok: PCollection<record.Record>
//	dups:   PCollection<record.Failure>
func Dedupe(s beam.Scope, in beam.PCollection, field string, opts ...DedupeOption) (ok, dups beam.PCollection) {
	s = s.Scope(fmt.Sprintf("clean.Dedupe(%s)", keyName(field)))
	pf := &positionFn{keyField: keyField{Field: field}}
	for _, o := range opts {
		o(pf)
	}
	if pf.SpillDir != "" {
		filesystem.ValidateScheme(pf.SpillDir)
	}
	recs, batches, noKey := beam.ParDo3(s, pf, in)
	losers := beam.ParDo(s, losersFn{}, beam.GroupByKey(s, batches))
	marked := beam.ParDo(s, &markLosersFn{}, recs, beam.SideInput{Input: losers})
	// The decoding runs in a stage of its own, without the side input (see markLosersFn).
	marked = fusion.Break(s, marked)
	ok, dups = beam.ParDo2(s, &unbatchFn{keyField: keyField{Field: field}}, marked)
	return ok, beam.Flatten(s, dups, noKey)
}

// DedupeOption adjusts Dedupe.
type DedupeOption func(*positionFn)

// SpillTo makes Dedupe keep the records waiting for the duplicates in files under dir, a
// local directory or gs:// prefix.
func SpillTo(dir string) DedupeOption { return func(f *positionFn) { f.SpillDir = dir } }

func keyName(field string) string {
	if field == "" {
		return "id"
	}
	return field
}

type dedupeStreamFn struct {
	Seen   state.Value[bool] `json:"seen"`
	Expiry timers.EventTime  `json:"expiry"`
	TTL    int64             `json:"ttl_ns"`
	step
}

func (f *dedupeStreamFn) ProcessElement(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, key []byte, r record.Record, ok func(record.Record), dup func(record.Failure)) {
	seen, _, err := f.Seen.Read(sp)
	if err != nil {
		panic(fmt.Sprintf("clean.DedupeStream: reading state: %v", err)) // runner failure; it retries the bundle
	}
	if seen {
		f.ctr.Inc(ctx, r.Source, StageDedupe, record.OutcomeDuplicate, "")
		dup(duplicate(StageDedupe, string(key), &r))
		return
	}
	f.Seen.Write(sp, true)
	// The timer only clears state, so it must not hold the output watermark back.
	f.Expiry.Set(tp, ts.ToTime().Add(time.Duration(f.TTL)), timers.WithNoOutputTimestamp())
	f.pass(ctx, StageDedupe, &r)
	ok(r)
}

func (f *dedupeStreamFn) OnTimer(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, key []byte, timer timers.Context, ok func(record.Record), dup func(record.Failure)) {
	f.Seen.Clear(sp)
}

// DedupeStream keeps the first record to arrive per (source, key field) and sends repeats
// seen within ttl of it (in event time) to dups with reason "duplicate". It runs as a stateful
// DoFn with one boolean of state per key and an event-time timer that clears it, so memory is
// bounded by the keys seen in ttl. State is also per window: on windowed input a key repeats
// freely across windows.
//
//	in, ok: PCollection<record.Record>
//	dups:   PCollection<record.Failure>
func DedupeStream(s beam.Scope, in beam.PCollection, field string, ttl time.Duration) (ok, dups beam.PCollection) {
	if ttl <= 0 {
		panic(fmt.Sprintf("clean.DedupeStream: ttl %s must be positive", ttl))
	}
	s = s.Scope(fmt.Sprintf("clean.DedupeStream(%s, %s)", keyName(field), ttl))
	keyed, noKey := beam.ParDo2(s, &dedupeKeyFn{keyField: keyField{Field: field}}, in)
	ok, dups = beam.ParDo2(s, &dedupeStreamFn{
		Seen:   state.MakeValueState[bool]("seen"),
		Expiry: timers.InEventTime("expiry"),
		TTL:    int64(ttl),
	}, keyed)
	return ok, beam.Flatten(s, dups, noKey)
}
