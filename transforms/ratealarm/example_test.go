package ratealarm_test

import (
	"fmt"
	"time"

	"github.com/beamline/beamline/transforms/ratealarm"
)

func Example() {
	det := ratealarm.EWMA{Alpha: 0.1, Z: 4, WarmUp: 5}
	pol := ratealarm.Policy{Cooldown: 3, ResolveAfter: 2, Critical: 10}
	var st ratealarm.State
	var as ratealarm.AlarmState
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i, c := range []float64{20, 21, 19, 20, 22, 20, 19, 80, 21, 20, 19, 0, 0, 20, 21} {
		d := det.Observe(&st, start.Add(time.Duration(i)*time.Minute), c)
		if kind, severity := pol.Step(&as, d); kind != ratealarm.None {
			fmt.Printf("window %2d: %-8s %-8s observed %2.0f expected %4.1f\n", i, kind, severity, d.Observed, d.Expected)
		}
	}
	// Output:
	// window  7: spike    critical observed 80 expected 20.1
	// window  9: resolved          observed 20 expected 20.7
	// window 11: silence  critical observed  0 expected 20.5
	// window 14: resolved          observed 21 expected 20.0
}
