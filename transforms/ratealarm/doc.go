// Package ratealarm raises alarms on event rates: it counts events per key in event-time
// windows, judges each key's series of counts with a detector, and turns the verdicts into
// alerts through a small per-key state machine.
//
// The core is plain Go and knows nothing of Beam:
//
//   - detectors (Detector: Threshold, EWMA, MAD, Seasonal with a Baseline learned by
//     LearnBaseline or per key by LearnBaselines, SilenceOnly) judge one window at a time and return a Decision — none,
//     spike, drop or silence — with the observed and expected counts and a score; their memory
//     is a plain State value;
//
//   - Policy.Step is the alarm state machine: de-duplication while an alarm is active,
//     a cooldown after it, a resolved message after M normal windows, severity from the score.
//
//   - Judge drives one key: it buffers counts of windows not judged yet (Pending, one entry
//     per window) and judges the windows in event-time order as the watermark passes them,
//     whatever order the counts arrived in; its KeyState is bounded (the detector's State,
//     the AlarmState and the windows still open to corrections).
//
// The Beam wrappers are thin: Count (PCollection<record.Record> → PCollection<WindowCount>)
// and Detect (PCollection<WindowCount> → PCollection<Alert>), a stateful DoFn around Judge:
// KeyState in value state, Pending in map state, an event-time timer at the end of each
// window with a count, and one more for the next window without a count, so silence comes
// from timers.
//
// Silence across gaps: after a key's last count, its next MaxQuiet windows (default 60) are
// judged as zeros, which is where silence is raised; then the key sleeps. When counts come
// back, the whole gap is skipped in one step: the detector does not see the skipped windows,
// they count towards the Policy's cooldown, and an alarm raised before the gap (silence)
// stays active across it and resolves on the returning traffic. The gap is one silence run,
// however long: work grows with the windows that hold counts, never with the time between
// them (a year's gap costs what an hour's does).
//
//	counts := ratealarm.Count(s, orders, time.Minute, ratealarm.Dimensions("country"),
//		ratealarm.AllowedLateness(5*time.Minute))
//	alerts := ratealarm.Detect(s, counts, ratealarm.Spec{Detector: "seasonal",
//		Seasonal: &ratealarm.Seasonal{Baseline: learned, K: 5, Spans: []int{1, 5, 15}}},
//		ratealarm.Lateness(5*time.Minute), ratealarm.ModelVersion("baseline-2026-11-22"))
//
// A daily batch job (pipelines/baseline-train, models/baseline) publishes the per-key
// baselines to io/modelstore; Detect follows the newest with BaselineFrom, each worker
// polling the store at most once per refresh, refusing a corrupt or incompatible version and
// stamping the version that judged on every alert:
//
//	alerts := ratealarm.Detect(s, counts, ratealarm.Spec{Detector: "seasonal",
//		Seasonal: &ratealarm.Seasonal{K: 5, Spans: []int{1, 5, 15}}},
//		ratealarm.BaselineFrom("gs://lake/models", "order-baseline", time.Minute, 5*time.Minute))
//
// Over generated fortnights of orders (internal/dev/ordergen: 20 orders a minute on average,
// diurnal and weekly rhythm, 24 injected bursts, drops and outages) the seasonal detector
// with spans 1, 5 and 15 finds 92–100 % of the anomalies at 0.07–0.36 false alarms a day;
// see eval_test.go for the comparison with EWMA, MAD and Beam Python's ZScore,
// RobustZScore and IQR.
package ratealarm
