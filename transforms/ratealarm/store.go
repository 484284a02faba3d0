package ratealarm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/beamline/beamline/io/modelstore"
)

// A published baseline is a modelstore version of kind BaselineKind whose file BaselinesFile
// holds the per-key baselines as JSON: {"all": {"0": {"mean": 12, "std": 3}, …}, "country=GB": …}.
// models/baseline trains and publishes them; Detect follows them with BaselineFrom.
const (
	BaselineKind  = "ratealarm.baseline"
	BaselinesFile = "baselines.json"
)

// CheckBaselines says what is wrong with a set of per-key baselines, or nil: there must be at
// least one key with one hour, every hour in [0, 168) and every mean and std finite and not
// negative. A detector fed a NaN would judge every window of its hour as normal.
func CheckBaselines(m map[string]Baseline) error {
	hours := 0
	for k, b := range m {
		for h, st := range b {
			if h < 0 || h >= 168 {
				return fmt.Errorf("ratealarm: baseline of key %q has hour %d; hours of the week are 0–167", k, h)
			}
			for _, v := range []float64{st.Mean, st.Std} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					return fmt.Errorf("ratealarm: baseline of key %q, hour %d: mean %v, std %v; both must be finite and ≥ 0", k, h, st.Mean, st.Std)
				}
			}
		}
		hours += len(b)
	}
	if hours == 0 {
		return fmt.Errorf("ratealarm: the baselines are empty (no key has any hour)")
	}
	return nil
}

// BaselineFeatures is the feature spec a published baseline's manifest carries: the count
// window it was learned at (a Go duration, e.g. "1m0s") and the keys it has baselines for.
// An expected count is per window, so a baseline only judges counts of its own window.
type BaselineFeatures struct {
	Window string   `json:"window"`
	Keys   []string `json:"keys,omitempty"`
}

// BaselineWindow is the count window a published baseline was learned at, from its manifest;
// 0 when the manifest does not say (or says something that is not a duration).
func BaselineWindow(m modelstore.Manifest) time.Duration {
	var f BaselineFeatures
	if len(m.Features) == 0 || json.Unmarshal(m.Features, &f) != nil {
		return 0
	}
	d, err := time.ParseDuration(f.Window)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// CheckBaselineWindow refuses (modelstore.ErrIncompatible) a baseline learned at another
// count window than window, or one whose manifest does not say: its expected counts would be
// off by the ratio of the windows, and every window would look like a spike or a drop.
func CheckBaselineWindow(m modelstore.Manifest, window time.Duration) error {
	switch got := BaselineWindow(m); {
	case got == 0:
		return fmt.Errorf("%w: baseline %s version %s does not say its count window (manifest features.window); republish it with pipelines/baseline-train",
			modelstore.ErrIncompatible, m.Name, m.Version)
	case got != window:
		return fmt.Errorf("%w: baseline %s version %s was learned at %s windows, the counts are %s windows; train one at %s (baseline-train --window=%s) or count at %s",
			modelstore.ErrIncompatible, m.Name, m.Version, got, window, window, window, got)
	}
	return nil
}

// DecodeBaselines reads the per-key baselines of a published version, refusing another kind
// (modelstore.ErrIncompatible) and a file that does not parse or check (modelstore.ErrCorrupt).
// It is the decoder Detect's BaselineFrom gives its modelstore.Refresher.
func DecodeBaselines(a *modelstore.Artifact) (map[string]Baseline, error) {
	if a.Manifest.Kind != BaselineKind {
		return nil, fmt.Errorf("%w: kind %q is not %q", modelstore.ErrIncompatible, a.Manifest.Kind, BaselineKind)
	}
	b, ok := a.Files[BaselinesFile]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", modelstore.ErrCorrupt, BaselinesFile)
	}
	var m map[string]Baseline
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", modelstore.ErrCorrupt, BaselinesFile, err)
	}
	if err := CheckBaselines(m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", modelstore.ErrCorrupt, BaselinesFile, err)
	}
	return m, nil
}

// WithBaselines returns s judging with the per-key baselines m: m[All] serves every key that
// has no baseline of its own, and the others serve their keys.
func (s Seasonal) WithBaselines(m map[string]Baseline) Seasonal {
	s.Baseline, s.Keys = m[All], m
	return s
}

// BaselineSource follows the newest published baselines of one model in a store for a
// running detector. It reads the store only when asked, and at most once per refresh
// interval; a version that is corrupt, incompatible (another kind, or learned at another
// count window) or does not decode is refused (and not downloaded again while LATEST names
// it) and the version held keeps serving.
type BaselineSource struct {
	root, name string
	refresh    time.Duration
	ref        *modelstore.Refresher[map[string]Baseline]

	mu      sync.Mutex
	checked time.Time // when the store was last read; zero before the first read
	lastErr error
}

// NewBaselineSource returns a source of model name under root (a directory or gs:// prefix)
// for counts of window (versions learned at another window are refused; 0 takes any), reading
// the store at most once per refresh. It holds nothing until the first Current.
func NewBaselineSource(root, name string, window, refresh time.Duration) *BaselineSource {
	decode := func(a *modelstore.Artifact) (map[string]Baseline, error) {
		if window > 0 {
			if err := CheckBaselineWindow(a.Manifest, window); err != nil {
				return nil, err
			}
		}
		return DecodeBaselines(a)
	}
	return &BaselineSource{root: root, name: name, refresh: refresh,
		ref: modelstore.NewRefresher(root, name, decode, modelstore.WithKind(BaselineKind))}
}

// Current returns the baselines held and their version, reading the store first when refresh
// has passed since the last read (now is the caller's clock). err is why the store's newest
// version was last refused or could not be read; the baselines returned are then the ones
// held before, or nil when no version was ever loaded.
func (b *BaselineSource) Current(ctx context.Context, now time.Time) (m map[string]Baseline, version string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.checked.IsZero() || now.Sub(b.checked) >= b.refresh {
		b.checked = now
		changed, err := b.ref.Check(ctx)
		switch {
		case err != nil:
			if b.lastErr == nil || err.Error() != b.lastErr.Error() {
				slog.Warn("ratealarm: keeping the current baseline; the newest version was refused",
					"root", b.root, "model", b.name, "error", err)
			}
		case changed:
			_, v, _ := b.ref.Current()
			slog.Info("ratealarm: now using a new baseline version", "root", b.root, "model", b.name, "version", v)
		}
		b.lastErr = err
	}
	m, version, _ = b.ref.Current()
	return m, version, b.lastErr
}

// sources are the per-process (per-worker) baseline sources, shared by every Detect DoFn
// instance that follows the same model: a worker holds each baseline once and reads the
// store once per refresh, however many bundles run on it.
var sources = struct {
	sync.Mutex
	m map[string]*BaselineSource
}{m: map[string]*BaselineSource{}}

func sharedSource(root, name string, window, refresh time.Duration) *BaselineSource {
	key := strings.Join([]string{root, name, window.String(), refresh.String()}, "\x00")
	sources.Lock()
	defer sources.Unlock()
	s := sources.m[key]
	if s == nil {
		s = NewBaselineSource(root, name, window, refresh)
		sources.m[key] = s
	}
	return s
}

// storeRef names the published baseline Detect follows.
type storeRef struct {
	Root    string        `json:"root"`
	Name    string        `json:"name"`
	Window  time.Duration `json:"window"`
	Refresh time.Duration `json:"refresh"`
}

// BaselineFrom makes the seasonal detector judge with the newest baselines published as model
// name under root (a directory or gs:// prefix; see models/baseline), learned per key at count
// window (the window given to Count: a version learned at another one is refused, and a count
// of another window fails Detect): each
// worker loads them on first use and looks for a new version at most once per refresh
// (default one minute), when a count or a timer arrives. A new version that is corrupt,
// incompatible or fails to decode is refused and the one held keeps serving. Alerts carry the
// version that judged them as ModelVersion.
//
// The spec's own Baseline and Keys, if any, serve until a version has loaded; without them,
// Detect fails (a retryable error) while no version can be loaded. The spec's K, Spans, MinStd
// and MinExpected still apply.
func BaselineFrom(root, name string, window, refresh time.Duration) DetectOption {
	return func(c *detectConfig) { c.store = &storeRef{Root: root, Name: name, Window: window, Refresh: refresh} }
}

// checkStore panics, at construction, on a BaselineFrom that cannot work with spec.
func checkStore(r *storeRef, spec Spec) {
	if r == nil {
		return
	}
	switch {
	case spec.Detector != "seasonal" || spec.Seasonal == nil:
		panic(fmt.Sprintf("ratealarm.Detect: BaselineFrom needs the seasonal detector, not %q (Spec{Detector: \"seasonal\", Seasonal: &Seasonal{K: 5}})", spec.Detector))
	case r.Root == "":
		panic("ratealarm.Detect: BaselineFrom root is empty; give the model store's directory or gs:// prefix")
	case r.Name == "":
		panic("ratealarm.Detect: BaselineFrom name is empty; give the model's name in the store (e.g. order-baseline)")
	case r.Window <= 0:
		panic(fmt.Sprintf("ratealarm.Detect: BaselineFrom window %s must be the window of the counts (Count's), e.g. time.Minute", r.Window))
	case r.Refresh < 0:
		panic(fmt.Sprintf("ratealarm.Detect: BaselineFrom refresh %s must not be negative", r.Refresh))
	}
}
