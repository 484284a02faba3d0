package ratealarm

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn2x0[record.Record, func(string)](&keysFn{})
	register.Emitter1[string]()
	register.Function3x1[beam.Window, string, int, WindowCount](toWindowCount)
	register.Function1x2[WindowCount, string, WindowCount](keyOfCount)
	register.DoFn6x1[context.Context, state.Provider, timers.Provider, string, WindowCount, func(Alert), error](&detectFn{})
	register.Emitter1[Alert]()
	register.Function1x1[WindowCount, int64](windowEndMillis)
	register.DoFn4x0[context.Context, Alert, func(*int64) bool, func(Alert)](&inputEndFn{})
	register.Iter1[int64]()
}

// All is the key under which Count counts every event.
const All = "all"

type countConfig struct {
	dims     []string
	lateness time.Duration
}

// CountOption configures Count.
type CountOption func(*countConfig)

// Dimensions adds a key per value of each named Data field: with "country", an order from
// gb counts under "all" and "country=gb". A record without the field counts under
// "country=" (empty value).
func Dimensions(fields ...string) CountOption {
	return func(c *countConfig) { c.dims = append(c.dims, fields...) }
}

// AllowedLateness keeps each window open for d after the watermark passed its end; events
// arriving in that time are reported as extra counts for their window (see WindowCount).
// Default 0: late events are dropped.
func AllowedLateness(d time.Duration) CountOption {
	return func(c *countConfig) { c.lateness = d }
}

// Count counts events per key in event-time fixed windows of the given size (0: one minute).
// Every event counts under All and under one key per dimension. Keys with no events in a
// window produce nothing here; Detect fills those windows in with zeros from timers.
//
//	events: PCollection<record.Record> (with event timestamps, e.g. from clean.EventTime)
//	out:    PCollection<WindowCount>
//
// Usage:
//
//	counts := ratealarm.Count(s, orders, time.Minute, ratealarm.Dimensions("country"))
func Count(s beam.Scope, events beam.PCollection, size time.Duration, opts ...CountOption) beam.PCollection {
	if size < 0 {
		panic(fmt.Sprintf("ratealarm.Count: window size %s must not be negative", size))
	}
	if size == 0 {
		size = time.Minute
	}
	var c countConfig
	for _, o := range opts {
		o(&c)
	}
	if c.lateness < 0 {
		panic(fmt.Sprintf("ratealarm.Count: allowed lateness %s must not be negative", c.lateness))
	}
	for _, d := range c.dims {
		if d == "" {
			panic("ratealarm.Count: a dimension field name is empty")
		}
	}
	s = s.Scope(fmt.Sprintf("ratealarm.Count(%s)", size))
	keys := beam.ParDo(s, &keysFn{Dims: c.dims}, events)
	win := beam.WindowInto(s, window.NewFixedWindows(size), keys,
		beam.AllowedLateness(c.lateness), beam.PanesDiscard())
	return beam.ParDo(s, toWindowCount, stats.Count(s, win))
}

type keysFn struct {
	Dims []string `json:"dims"`
}

func (f *keysFn) ProcessElement(r record.Record, emit func(string)) {
	emit(All)
	for _, d := range f.Dims {
		v, ok := r.Data[d]
		if !ok || v == nil {
			emit(d + "=")
			continue
		}
		emit(d + "=" + fmt.Sprint(v))
	}
}

func toWindowCount(w beam.Window, key string, n int) WindowCount {
	iw := w.(window.IntervalWindow)
	return WindowCount{Key: key, WindowStart: iw.Start.ToTime().UTC(), WindowEnd: iw.End.ToTime().UTC(), Count: int64(n)}
}

func keyOfCount(c WindowCount) (string, WindowCount) { return c.Key, c }

type detectConfig struct {
	bounded  bool
	policy   Policy
	version  string
	maxQuiet int
	lateness time.Duration
	store    *storeRef
}

// DetectOption configures Detect.
type DetectOption func(*detectConfig)

// WithPolicy sets the alarm policy (default: cooldown 10 windows, resolve after 5, critical
// from |score| 8).
func WithPolicy(p Policy) DetectOption { return func(c *detectConfig) { c.policy = p } }

// ModelVersion stamps every alert with v (e.g. the version of a learned Baseline). With
// BaselineFrom, the version of the loaded baseline replaces it once one has loaded.
func ModelVersion(v string) DetectOption { return func(c *detectConfig) { c.version = v } }

// MaxQuiet is how many empty windows in a row a key is still judged (and can raise silence)
// before Detect stops its timers for it; the key wakes up with its next count. Default 60.
func MaxQuiet(n int) DetectOption { return func(c *detectConfig) { c.maxQuiet = n } }

// Lateness is how long after a window Detect still accepts corrections for it; give it
// the allowed lateness passed to Count. Default 0.
func Lateness(d time.Duration) DetectOption { return func(c *detectConfig) { c.lateness = d } }

// BoundedInput says the counts come from a bounded input, a batch replay of files. When such
// an input ends, its watermark jumps to the end of time and Detect's timers judge the
// MaxQuiet windows after the last count as empty: the end of the file looks like silence.
// With BoundedInput, Detect drops the alerts of windows that start at or after the end of
// the last window with a count of any key (a key that went quiet earlier is still judged),
// counting them in the metric ratealarm/alerts_after_input_end.
//
// It needs the whole input before the first alert leaves (the end of the input is a side
// input), which a batch job has; do not use it in a streaming job (an unbounded input,
// teststream included), where the end never comes: alerts would be held back forever, or,
// on prism, let through unfiltered.
func BoundedInput() DetectOption { return func(c *detectConfig) { c.bounded = true } }

// Detect runs the detector spec names over each key's series of window counts and sends
// alerts through the alarm Policy. It is a stateful DoFn keyed by WindowCount.Key: the
// detector's State and the AlarmState live in Beam state, and an event-time timer at the
// end of each window judges it once the watermark has passed, in window order, with zero for
// a window that had no count: a key that goes quiet raises silence from its timers. After
// MaxQuiet empty windows the timers stop until the key counts again.
//
// Late data: a count for a window already judged (Count with AllowedLateness) is added to
// that window's stored count within Lateness. If that window raised an alert, Detect sends
// the same alert again with Kind "corrected" and the new Observed count, so consumers can
// update what they showed; otherwise it sends nothing. The detector and alarm state are not
// rewound: the correction neither raises nor withdraws an alarm, and the models learn from
// the on-time count.
//
// The end of a bounded input looks like silence to an event-time detector: the last
// MaxQuiet windows after the data stops are judged as zeros. BoundedInput drops those alerts.
//
// With BaselineFrom, the seasonal detector judges with the newest baselines published to a
// model store, which each worker polls at most once per refresh; alerts carry the version.
//
//	counts: PCollection<WindowCount> (e.g. from Count)
//	out:    PCollection<Alert>
//
// Usage:
//
//	alerts := ratealarm.Detect(s, counts, ratealarm.Spec{Detector: "ewma",
//		EWMA: &ratealarm.EWMA{Alpha: 0.05, Z: 5, WarmUp: 30}})
func Detect(s beam.Scope, counts beam.PCollection, spec Spec, opts ...DetectOption) beam.PCollection {
	c := detectConfig{policy: Policy{Cooldown: 10, ResolveAfter: 5, Critical: 8}, maxQuiet: 60}
	for _, o := range opts {
		o(&c)
	}
	checkStore(c.store, spec)
	if c.store != nil && c.store.Refresh == 0 {
		c.store.Refresh = time.Minute
	}
	if _, err := buildSpec(spec, c.store != nil); err != nil {
		panic(fmt.Sprintf("ratealarm.Detect: spec: %v", err))
	}
	if c.maxQuiet < 1 {
		panic(fmt.Sprintf("ratealarm.Detect: MaxQuiet %d must be at least 1", c.maxQuiet))
	}
	if c.policy.Cooldown < 0 || c.policy.ResolveAfter < 1 {
		panic(fmt.Sprintf("ratealarm.Detect: policy %+v needs Cooldown ≥ 0 and ResolveAfter ≥ 1", c.policy))
	}
	if c.lateness < 0 {
		panic(fmt.Sprintf("ratealarm.Detect: lateness %s must not be negative", c.lateness))
	}
	s = s.Scope(fmt.Sprintf("ratealarm.Detect(%s)", spec.Detector))
	// State must span windows, so the counts leave their fixed windows; each keeps its
	// timestamp (the end of its window).
	global := beam.WindowInto(s, window.NewGlobalWindows(), counts)
	keyed := beam.ParDo(s, keyOfCount, global)
	alerts := beam.ParDo(s, &detectFn{
		Spec: spec, Policy: c.policy, ModelVersion: c.version, MaxQuiet: c.maxQuiet, Store: c.store,
		Lateness: int64(c.lateness / time.Millisecond),
		St:       state.MakeValueState[[]byte]("ratealarm"),
		Tick:     timers.InEventTime("tick"),
	}, keyed)
	if !c.bounded {
		return alerts
	}
	end := stats.Max(s, beam.ParDo(s, windowEndMillis, global))
	// The reshuffle keeps the filter out of Detect's stage: a runner that fuses them would
	// hold every count back until the side input is ready (the whole input), and Detect
	// would take each key's whole series into its state before the first timer: measured on
	// prism, a fortnight of orders went from 109 s to over 11 minutes.
	return beam.ParDo(s, &inputEndFn{}, beam.Reshuffle(s, alerts), beam.SideInput{Input: end})
}

func windowEndMillis(c WindowCount) int64 { return c.WindowEnd.UnixMilli() }

var alertsAfterInputEnd = beam.NewCounter("ratealarm", "alerts_after_input_end")

// inputEndFn drops the alerts of windows that start at or after the end of the input: the
// latest end of a counted window (Unix ms), a side input of at most one value.
type inputEndFn struct{}

func (*inputEndFn) ProcessElement(ctx context.Context, a Alert, end func(*int64) bool, emit func(Alert)) {
	var e int64
	for last := int64(0); end(&last); {
		e = max(e, last)
	}
	if a.WindowStart.UnixMilli() >= e && e > 0 {
		alertsAfterInputEnd.Inc(ctx, 1)
		return
	}
	emit(a)
}

// keyState is everything Detect remembers about one key. Times are Unix milliseconds.
type keyState struct {
	Size    int64           `json:"size"`    // window length
	Next    int64           `json:"next"`    // start of the next window to judge; 0 before the first count
	Timer   int64           `json:"timer"`   // when the tick timer fires; 0 when not set
	Quiet   int             `json:"quiet"`   // empty windows in a row
	Pending map[int64]int64 `json:"pending"` // counts of windows not judged yet
	Judged  map[int64]int64 `json:"judged"`  // counts of recent judged windows, for corrections
	Sent    map[int64]Alert `json:"sent"`    // alerts of recent judged windows
	Det     State           `json:"det"`
	Alarm   AlarmState      `json:"alarm"`
}

type detectFn struct {
	Spec         Spec                `json:"spec"`
	Policy       Policy              `json:"policy"`
	ModelVersion string              `json:"model_version"`
	MaxQuiet     int                 `json:"max_quiet"`
	Lateness     int64               `json:"lateness_ms"`
	St           state.Value[[]byte] `json:"st"`
	Tick         timers.EventTime    `json:"tick"`
	Store        *storeRef           `json:"store,omitempty"`
	det          Detector
	version      string          // stamped on alerts
	src          *BaselineSource // with Store: the worker's shared source
	fallback     bool            // with Store: the spec's own baseline serves until one loads
}

// buildSpec builds spec; with a store, a seasonal spec may come without a baseline (it judges
// nothing until one loads).
func buildSpec(spec Spec, store bool) (Detector, error) {
	if store && spec.Seasonal != nil && len(spec.Seasonal.Baseline) == 0 && len(spec.Seasonal.Keys) == 0 {
		probe := *spec.Seasonal
		probe.Baseline = Baseline{0: {}}
		spec.Seasonal = &probe
		if _, err := spec.Build(); err != nil {
			return nil, err
		}
		return probe.WithBaselines(nil), nil
	}
	return spec.Build()
}

func (f *detectFn) Setup(ctx context.Context) error {
	d, err := buildSpec(f.Spec, f.Store != nil)
	f.det, f.version = d, f.ModelVersion
	if err != nil || f.Store == nil {
		return err
	}
	f.fallback = len(f.Spec.Seasonal.Baseline) > 0 || len(f.Spec.Seasonal.Keys) > 0
	f.src = sharedSource(f.Store.Root, f.Store.Name, f.Store.Window, f.Store.Refresh)
	_ = f.follow(ctx) // load now if the store allows; first use tries again and reports
	return nil
}

// follow swaps in the newest baseline the worker's source holds (it reads the store at most
// once per refresh). It fails only when no baseline at all can judge.
func (f *detectFn) follow(ctx context.Context) error {
	if f.src == nil {
		return nil
	}
	m, v, err := f.src.Current(ctx, time.Now())
	if m == nil {
		if f.fallback {
			return nil
		}
		return fmt.Errorf("ratealarm.Detect: no baseline %q could be loaded from %s: %w", f.Store.Name, f.Store.Root, err)
	}
	if v != f.version || f.fallback {
		f.det, f.version, f.fallback = f.Spec.Seasonal.WithBaselines(m), v, false
	}
	return nil
}

func (f *detectFn) load(sp state.Provider) (*keyState, error) {
	b, ok, err := f.St.Read(sp)
	if err != nil {
		return nil, fmt.Errorf("ratealarm.Detect: reading state: %w", err)
	}
	ks := &keyState{}
	if ok {
		if err := json.Unmarshal(b, ks); err != nil {
			return nil, fmt.Errorf("ratealarm.Detect: decoding state: %w", err)
		}
	}
	if ks.Pending == nil {
		ks.Pending = map[int64]int64{}
	}
	if ks.Judged == nil {
		ks.Judged = map[int64]int64{}
	}
	if ks.Sent == nil {
		ks.Sent = map[int64]Alert{}
	}
	return ks, nil
}

func (f *detectFn) save(sp state.Provider, ks *keyState) error {
	b, err := json.Marshal(ks)
	if err != nil {
		return err
	}
	return f.St.Write(sp, b)
}

func (f *detectFn) ProcessElement(ctx context.Context, sp state.Provider, tp timers.Provider, key string, c WindowCount, emit func(Alert)) error {
	start, size := c.WindowStart.UnixMilli(), c.WindowEnd.UnixMilli()-c.WindowStart.UnixMilli()
	if size <= 0 {
		return nil // not a window: nothing to judge (Count never makes one)
	}
	if f.Store != nil && size != int64(f.Store.Window/time.Millisecond) {
		return fmt.Errorf("ratealarm.Detect: key %q has a count of a %s window, but BaselineFrom follows baselines of %s windows; give BaselineFrom the window given to Count",
			key, time.Duration(size)*time.Millisecond, f.Store.Window)
	}
	_ = f.follow(ctx) // only judging needs a baseline: OnTimer reports a missing one
	ks, err := f.load(sp)
	if err != nil {
		return err
	}
	ks.Size = size
	if ks.Next != 0 && start < ks.Next { // a correction of a judged window
		if n, ok := ks.Judged[start]; ok {
			ks.Judged[start] = n + c.Count
			if a, ok := ks.Sent[start]; ok {
				a.Kind, a.Observed = string(Corrected), float64(n+c.Count)
				ks.Sent[start] = a
				emit(a)
			}
		}
		return f.save(sp, ks)
	}
	if ks.Next == 0 || (ks.Timer == 0 && ks.Quiet >= f.MaxQuiet) {
		// First count, or waking after a long silence that was already judged: skip the gap.
		ks.Next, ks.Quiet = start, 0
	}
	ks.Pending[start] += c.Count
	if ks.Timer == 0 {
		ks.Timer = ks.Next + ks.Size
		f.Tick.Set(tp, time.UnixMilli(ks.Timer))
	}
	return f.save(sp, ks)
}

func (f *detectFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, key string, timer timers.Context, emit func(Alert)) error {
	if err := f.follow(ctx); err != nil {
		return err
	}
	ks, err := f.load(sp)
	if err != nil {
		return err
	}
	fire := ks.Timer
	ks.Timer = 0
	for ks.Size > 0 && ks.Next+ks.Size <= fire {
		f.judge(key, ks, emit)
	}
	if len(ks.Pending) > 0 || ks.Quiet < f.MaxQuiet {
		ks.Timer = ks.Next + ks.Size
		f.Tick.Set(tp, time.UnixMilli(ks.Timer))
	}
	return f.save(sp, ks)
}

// judge runs the detector and the alarm state machine over window ks.Next.
func (f *detectFn) judge(key string, ks *keyState, emit func(Alert)) {
	start := ks.Next
	n := ks.Pending[start]
	delete(ks.Pending, start)
	if n == 0 {
		ks.Quiet++
	} else {
		ks.Quiet = 0
	}
	ts := time.UnixMilli(start).UTC()
	det := f.det
	if sd, ok := det.(Seasonal); ok && len(sd.Keys) > 0 {
		det = sd.ForKey(key)
	}
	d := det.Observe(&ks.Det, ts, float64(n))
	kind, sev := f.Policy.Step(&ks.Alarm, d)
	ks.Judged[start] = n
	if kind != None {
		a := Alert{
			Key: key, WindowStart: ts, WindowEnd: ts.Add(time.Duration(ks.Size) * time.Millisecond),
			Observed: d.Observed, Expected: d.Expected, Score: d.Score,
			Detector: det.Name(), Severity: sev, Kind: string(kind), ModelVersion: f.version,
		}
		if kind != Resolved {
			ks.Sent[start] = a
		}
		emit(a)
	}
	ks.Next += ks.Size
	// Forget windows that can no longer be corrected.
	horizon := ks.Next - f.Lateness - ks.Size
	for _, m := range []map[int64]int64{ks.Judged} {
		for w := range m {
			if w < horizon {
				delete(m, w)
			}
		}
	}
	for w := range ks.Sent {
		if w < horizon {
			delete(ks.Sent, w)
		}
	}
}
