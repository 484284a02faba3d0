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
//   - Policy.Step is the alarm state machine: de-duplication while an alarm is active,
//     a cooldown after it, a resolved message after M normal windows, severity from the score.
//
// The Beam wrappers are thin: Count (PCollection<record.Record> → PCollection<WindowCount>)
// and Detect (PCollection<WindowCount> → PCollection<Alert>), a stateful DoFn whose
// event-time timers judge every window of a key in order, including the windows in which
// the key had no events at all, so silence comes from timers.
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
