package ratealarm

import (
	"math"
	"time"
)

// Alert is one alarm message. Kind is spike, drop, silence, resolved or corrected.
type Alert struct {
	Key          string    `json:"key"`
	WindowStart  time.Time `json:"window_start"`
	WindowEnd    time.Time `json:"window_end"`
	Observed     float64   `json:"observed"`
	Expected     float64   `json:"expected"`
	Score        float64   `json:"score"`
	Detector     string    `json:"detector"`
	Severity     string    `json:"severity"`
	Kind         string    `json:"kind"`
	ModelVersion string    `json:"model_version,omitempty"`
}

// Severities.
const (
	Warning  = "warning"
	Critical = "critical"
)

// Policy is the alarm state machine's configuration.
type Policy struct {
	// Cooldown is how many windows after an alarm no new alarm is raised for the key, even
	// after it resolved. While an alarm is active, the same kind is never repeated
	// (de-duplication); a different kind (a spike turning into silence) is a new alarm,
	// subject to the cooldown, except that silence always breaks through it.
	Cooldown int `json:"cooldown"`
	// ResolveAfter is how many consecutive normal windows resolve an active alarm (≥ 1);
	// windows with a zero count never resolve a silence.
	ResolveAfter int `json:"resolve_after"`
	// Critical is the |score| from which an alarm is critical rather than a warning
	// (0: every alarm is a warning). Silence is always critical.
	Critical float64 `json:"critical"`
}

// AlarmState is the state machine's memory of one key.
type AlarmState struct {
	Index     int64  `json:"index"`      // windows seen
	Active    string `json:"active"`     // kind of the active alarm, "" when none
	LastAlarm int64  `json:"last_alarm"` // index of the last alarm, 0 when none
	Normal    int    `json:"normal"`     // consecutive normal windows while active
}

// Step advances the state machine by one window's decision and returns the kind of alert to
// send (None for nothing) with its severity.
func (p Policy) Step(st *AlarmState, d Decision) (Kind, string) {
	st.Index++
	if d.Kind == None || d.Kind == "" {
		if st.Active == "" {
			return None, ""
		}
		if st.Active == string(Silence) && d.Observed == 0 {
			st.Normal = 0 // still nothing: a silence resolves only when traffic returns
			return None, ""
		}
		st.Normal++
		if st.Normal >= max(p.ResolveAfter, 1) {
			st.Active, st.Normal = "", 0
			return Resolved, ""
		}
		return None, ""
	}
	st.Normal = 0
	if st.Active == string(d.Kind) {
		return None, "" // de-duplicated
	}
	if st.LastAlarm > 0 && st.Index-st.LastAlarm <= int64(p.Cooldown) && d.Kind != Silence {
		return None, ""
	}
	st.Active, st.LastAlarm = string(d.Kind), st.Index
	return d.Kind, p.severity(d)
}

func (p Policy) severity(d Decision) string {
	if d.Kind == Silence || (p.Critical > 0 && math.Abs(d.Score) >= p.Critical) {
		return Critical
	}
	return Warning
}
