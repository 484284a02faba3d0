package ratealarm

import (
	"fmt"
	"time"
)

// Judge runs one key's window counts through a detector and the alarm Policy in event-time
// order, whatever order the counts arrive in. It is the pure core of Detect: Detect keeps a
// KeyState per key in Beam state, the not-yet-judged counts in a Pending map, and turns the
// times Judge asks for into event-time timers. A runner (or a test) drives it like this:
//
//   - Add takes each count as it arrives. A count of a window not judged yet joins Pending and
//     Add says so (due): the caller calls Due once the watermark has passed the end of that
//     window. A count of a window already judged is a correction (see Add).
//   - Due(start, size) judges every window from the key's cursor through that window, in
//     order: the quiet windows before it (a zero each, at most MaxQuiet in a row; the rest of
//     a longer gap is skipped in one step), then the window itself.
//   - After Due or Tick, KeyState.Tick is the end of the next quiet window to judge (0: none);
//     the caller calls Tick once the watermark has passed it. That is how a key that stopped
//     counting is still judged, and raises silence, for MaxQuiet windows.
//
// The work done grows with the windows that hold counts (plus at most MaxQuiet quiet windows
// after each), never with the time between them: a year's gap costs one step.
type Judge struct {
	Detector Detector `json:"-"`
	Policy   Policy   `json:"policy"`
	// MaxQuiet is how many windows without a count in a row are judged (as zeros) before the
	// key sleeps until its next count (≥ 1).
	MaxQuiet int `json:"max_quiet"`
	// Lateness is how long after a window has been judged a count for it is still taken as a
	// correction (Detect's Lateness).
	Lateness time.Duration `json:"lateness"`
	// Version is stamped on every alert as ModelVersion.
	Version string `json:"version"`
}

// KeyState is what Judge remembers of one key, apart from the counts waiting in Pending. Its
// size is bounded: the detector's State (O(1) for EWMA, Window counts for MAD, the longest
// span for Seasonal), the alarm state, and the windows judged within the lateness. Times are
// Unix milliseconds.
type KeyState struct {
	Size    int64      `json:"size"`    // window length; set by the first window judged
	Started bool       `json:"started"` // a window has been judged
	Next    int64      `json:"next"`    // start of the next window to judge, once Started
	Quiet   int        `json:"quiet"`   // windows without a count in a row, judged as zeros
	Tick    int64      `json:"tick"`    // when Tick must run (the end of window Next); 0: not needed
	Det     State      `json:"det"`
	Alarm   AlarmState `json:"alarm"`
	Recent  []Judged   `json:"recent,omitempty"` // windows judged within the lateness, oldest first
}

// Judged is a window judged within the lateness: its count so far and the alert it raised,
// which a correction repeats.
type Judged struct {
	Start int64  `json:"start"`
	Count int64  `json:"count"`
	Alert *Alert `json:"alert,omitempty"`
}

// Pending holds the counts of one key's windows that are not judged yet, by window start
// (Unix ms). Detect backs it with a Beam state.Map, so a count costs one entry, not a rewrite
// of everything held.
type Pending interface {
	Get(start int64) (n int64, ok bool, err error)
	Put(start, n int64) error
	Remove(start int64) error
}

// MapPending is a Pending in memory.
type MapPending map[int64]int64

func (m MapPending) Get(start int64) (int64, bool, error) { n, ok := m[start]; return n, ok, nil }
func (m MapPending) Put(start, n int64) error             { m[start] = n; return nil }
func (m MapPending) Remove(start int64) error             { delete(m, start); return nil }

// Add takes one count of key. When its window is not judged yet the count is added to
// Pending and due is true: call Due(start, size) once the watermark passes the window's end.
// Otherwise the window was judged already: within the lateness the count is added to it and,
// if it had raised an alert, that alert comes back with Kind "corrected" and the new
// Observed count (the detector and alarm state are not rewound); a count older than that is
// dropped. KeyState changes only in that case (due false).
func (j Judge) Add(ks *KeyState, p Pending, c WindowCount) (due bool, corrected *Alert, err error) {
	start := c.WindowStart.UnixMilli()
	if c.WindowEnd.UnixMilli() <= start {
		return false, nil, nil // not a window: nothing to judge (Count never makes one)
	}
	if ks.Started && start < ks.Next {
		return false, j.correct(ks, start, c.Count), nil
	}
	n, _, err := p.Get(start)
	if err != nil {
		return false, nil, err
	}
	if err := p.Put(start, n+c.Count); err != nil {
		return false, nil, err
	}
	return true, nil, nil
}

// correct adds n late events to judged window start, if it is still within the lateness.
func (j Judge) correct(ks *KeyState, start, n int64) *Alert {
	for i := range ks.Recent {
		r := &ks.Recent[i]
		if r.Start != start {
			continue
		}
		r.Count += n
		if r.Alert == nil {
			return nil
		}
		r.Alert.Kind, r.Alert.Observed = string(Corrected), float64(r.Count)
		a := *r.Alert
		return &a
	}
	return nil
}

// Due judges key's windows up to and including [start, start+size), which the watermark has
// passed, sending alerts to emit. The windows between the previous one judged and this one
// had no count: the first MaxQuiet of them in a row are judged as zeros, the rest are skipped
// (they count towards the Policy's cooldown, but the detector does not see them). Calling Due
// again for a window already judged does nothing.
func (j Judge) Due(ks *KeyState, p Pending, key string, start, size int64, emit func(Alert)) error {
	if size <= 0 {
		return fmt.Errorf("ratealarm: window [%d, %d) is empty", start, start+size)
	}
	if !ks.Started {
		ks.Started, ks.Next, ks.Size = true, start, size
	}
	if start < ks.Next {
		// Judged already: by the quiet walk, which took its count, or (with a runner that
		// fires timers out of order) skipped, so the count is late.
		n, ok, err := p.Get(start)
		if err != nil || !ok {
			return err
		}
		if err := p.Remove(start); err != nil {
			return err
		}
		if a := j.correct(ks, start, n); a != nil {
			emit(*a)
		}
		return j.setTick(ks, p)
	}
	if err := j.advance(ks, p, key, start+size, true, emit); err != nil {
		return err
	}
	return j.setTick(ks, p)
}

// Tick judges the quiet window ending at ks.Tick, which the watermark has passed.
func (j Judge) Tick(ks *KeyState, p Pending, key string, emit func(Alert)) error {
	until := ks.Tick
	ks.Tick = 0
	if !ks.Started || until == 0 {
		return nil
	}
	if err := j.advance(ks, p, key, until, false, emit); err != nil {
		return err
	}
	return j.setTick(ks, p)
}

// advance judges the windows that end by until, in order. Quiet windows past MaxQuiet are
// skipped when jump (until is the end of a window with a count), else advance stops there.
func (j Judge) advance(ks *KeyState, p Pending, key string, until int64, jump bool, emit func(Alert)) error {
	for ks.Next+ks.Size <= until {
		n, ok, err := p.Get(ks.Next)
		if err != nil {
			return err
		}
		if !ok && ks.Quiet >= j.MaxQuiet {
			if !jump {
				return nil
			}
			// A long gap: one step to the window of the next count, whatever the span.
			to := until - ks.Size
			ks.Alarm.Index += (to - ks.Next) / ks.Size
			ks.Next = to
			continue
		}
		if ok {
			if err := p.Remove(ks.Next); err != nil {
				return err
			}
		}
		j.judge(ks, key, n, emit)
	}
	return nil
}

// setTick asks for a Tick at the end of the next window unless its count will come with its
// own Due, or the key has been quiet for MaxQuiet windows.
func (j Judge) setTick(ks *KeyState, p Pending) error {
	ks.Tick = 0
	if !ks.Started || ks.Quiet >= j.MaxQuiet {
		return nil
	}
	_, ok, err := p.Get(ks.Next)
	if err != nil || ok {
		return err
	}
	ks.Tick = ks.Next + ks.Size
	return nil
}

// judge runs the detector and the alarm state machine over window ks.Next with count n.
func (j Judge) judge(ks *KeyState, key string, n int64, emit func(Alert)) {
	start := ks.Next
	if n == 0 {
		ks.Quiet++
	} else {
		ks.Quiet = 0
	}
	ts := time.UnixMilli(start).UTC()
	det := j.Detector
	if sd, ok := det.(Seasonal); ok && len(sd.Keys) > 0 {
		det = sd.ForKey(key)
	}
	d := det.Observe(&ks.Det, ts, float64(n))
	kind, sev := j.Policy.Step(&ks.Alarm, d)
	rec := Judged{Start: start, Count: n}
	if kind != None {
		a := Alert{
			Key: key, WindowStart: ts, WindowEnd: ts.Add(time.Duration(ks.Size) * time.Millisecond),
			Observed: d.Observed, Expected: d.Expected, Score: d.Score,
			Detector: det.Name(), Severity: sev, Kind: string(kind), ModelVersion: j.Version,
		}
		if kind != Resolved {
			rec.Alert = &a
		}
		emit(a)
	}
	ks.Next += ks.Size
	// Keep only the windows that can still be corrected: a bounded few.
	horizon := ks.Next - j.Lateness.Milliseconds() - ks.Size
	keep := ks.Recent[:0]
	for _, r := range ks.Recent {
		if r.Start >= horizon {
			keep = append(keep, r)
		}
	}
	ks.Recent = append(keep, rec)
}
