package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/ratealarm"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func init() {
	register.DoFn2x2[context.Context, record.Record, []byte, error](&encodeRecordFn{})
	register.Function1x1[record.Record, []byte](rawPayload)
	register.Function1x2(encodeFailure)
	register.Function1x2(encodeAlert)
	register.Function1x1(alertMessage)
	// Workers run this binary, so the check Spec names is registered there too.
	clean.RegisterCheck(CheckTotal, clean.NewLineTotals(clean.LineTotal{Total: "total", Currency: "currency", Items: "items", Quantity: "qty", Price: "price"}).CheckFunc())
}

// CheckTotal is the clean check that an order's total is Σ qty × price over its items, in
// minor units of its currency, exactly; an order that differs goes to the dead letter with
// reason total_mismatch (see clean.LineTotals).
const CheckTotal = "orders.total"

// Options of one orders run.
type Options struct {
	// Input is a glob (batch replay in event time) or pubsub://…/subscriptions/S (streaming).
	Input string
	// Output is a directory or gs:// prefix (history/, dead/), or bq://project.dataset.table
	// for the order history.
	Output string
	// Alerts are where alerts go, each a directory or gs:// prefix, pubsub://projects/P/topics/T,
	// or bq://project.dataset.table (ratealarm.Alert rows, partitioned by day on window_start):
	// a topic for whoever must act at once and a table or files to keep, say.
	Alerts []string
	// Lake, when set, is a directory or gs:// prefix for the raw orders as they arrived
	// (window-aware files dt=/hour= when streaming).
	Lake string
	// DeadLetter is a directory or gs:// prefix.
	DeadLetter string
	Window     time.Duration
	Detector   ratealarm.Spec
	Dimensions []string
	// IdleStop ends a streaming run once no message has arrived for it.
	IdleStop time.Duration
	// Staging is where a batch load job stages files for a bq:// output.
	Staging string
	// BaselineModel, when set, is the model store the seasonal detector follows for the
	// newest baseline named BaselineName, looking every BaselineRefresh.
	BaselineModel, BaselineName string
	BaselineRefresh             time.Duration
}

// StageWrite counts orders written to the history.
const StageWrite = "orders.Write"

// Source is the orders source tag stamps.
var Source = tag.Source{Name: "orders", Kind: "order", Format: "json", SchemaVersion: 1}

// lateness is how long after its window's end a late order, alert or dead letter still gets
// a file when streaming; an order later than that is dead-lettered as too_late.
const lateness = 24 * time.Hour

// Spec is the clean.Spec of an order: the total checked against its lines (CheckTotal),
// amounts to minor units, timestamps to UTC, the event time from created_at.
func Spec() clean.Spec {
	zero := 0.0
	return clean.Spec{
		Parse: &clean.ParseSpec{Format: "json"},
		Rules: []clean.Rule{
			{Field: "order_id", Required: true, Type: "string"},
			{Field: "created_at", Required: true},
			{Field: "currency", Required: true, Type: "string"},
			{Field: "total", Required: true, Type: "number", Min: &zero},
			{Field: "country", Required: true, Type: "string"},
			{Field: "items", Required: true, Type: "array"},
			{Check: CheckTotal},
		},
		Normalise: &clean.NormaliseSpec{
			Trim: true, Upper: []string{"country"}, Emails: []string{"customer.email"},
			Money:      []clean.MoneyField{{Amount: "total", Currency: "currency"}},
			Timestamps: []clean.TimeField{{Field: "created_at", Format: "auto"}}, // the history keeps UTC
		},
		EventTime: &clean.TimeField{Field: "created_at", Format: "auto"},
	}
}

func streaming(o Options) bool { return pubsub.IsAddress(o.Input) }

// isTable reports whether addr is a bq://project.dataset.table address.
func isTable(addr string) bool { return strings.HasPrefix(addr, bigquery.Scheme) }

// Build adds the orders job to s: read → tag → clean → dedupe by order_id → order history,
// and the rate alarm: counts per window and key (all, and each dimension) → detector →
// alerts. Failures go to the dead letter.
func Build(s beam.Scope, o Options) {
	var recs beam.PCollection
	var deads []beam.PCollection
	if streaming(o) {
		var ropts []pubsub.ReadOption
		if o.IdleStop > 0 {
			ropts = append(ropts, pubsub.StopWhenIdle(o.IdleStop))
		}
		raw, dups := pubsub.Read(s, o.Input, ropts...)
		recs, deads = raw, append(deads, dups)
	} else {
		recs = files.Read(s, o.Input)
	}
	spec := Spec()
	if streaming(o) && !strings.HasPrefix(o.Output, bigquery.Scheme) {
		// An order too late for its window's history files goes to the dead letter.
		l := lateness
		spec.Lateness = &l
	}
	ok, dead := clean.Apply(s, tag.Records(s, Source, recs), spec)
	deads = append(deads, dead)
	var dups beam.PCollection
	if streaming(o) {
		ok, dups = clean.DedupeStream(s, ok, "order_id", time.Hour)
	} else {
		ok, dups = clean.Dedupe(s, ok, "order_id")
	}
	deads = append(deads, dups)

	// Order history.
	switch {
	case strings.HasPrefix(o.Output, bigquery.Scheme):
		// One typed row per order (OrderRow): the lines as a REPEATED RECORD, the table
		// partitioned by the day of created_at. A row the table refuses moves from written
		// to dead (record.Refused) so the summary balances.
		opts := []bigquery.WriteOption{bigquery.WithPartitioning("created_at"), bigquery.WithClustering("country")}
		rows, bad := beam.ParDo2(s, &toRowFn{}, ok)
		var refused beam.PCollection
		if streaming(o) {
			refused = bigquery.Write(s, o.Output, rows, opts...)
		} else {
			refused = bigquery.Load(s, o.Output, rows, o.Staging, opts...)
		}
		deads = append(deads, bad, record.Refused(s, Source.Name, StageWrite, refused))
	case streaming(o):
		files.WriteWindowed(s, files.Join(o.Output, "history", "dt={date}", "hour={hour}")+"/", beam.ParDo(s, &encodeRecordFn{}, files.LateWindows(s, o.Window, lateness, ok)), files.Suffix(".jsonl"))
	default:
		files.WriteLines(s, files.Join(o.Output, "history", "part"), ".jsonl", beam.ParDo(s, &encodeRecordFn{}, ok))
	}

	// Rate alarm.
	counts := ratealarm.Count(s, ok, o.Window, ratealarm.Dimensions(o.Dimensions...))
	dopts := []ratealarm.DetectOption{ratealarm.ModelVersion(o.Detector.Detector)}
	if !streaming(o) {
		// A replay's end is not an outage: no silence for the windows after the file.
		dopts = append(dopts, ratealarm.BoundedInput())
	}
	if o.BaselineModel != "" {
		dopts = append(dopts, ratealarm.BaselineFrom(o.BaselineModel, o.BaselineName, o.Window, o.BaselineRefresh))
	}
	alerts := ratealarm.Detect(s, counts, o.Detector, dopts...)
	for _, dest := range o.Alerts {
		deads = append(deads, writeAlerts(s, o, dest, alerts)...)
	}

	// The raw lake: every order message or line as it arrived, before any cleaning.
	if o.Lake != "" {
		raw := beam.ParDo(s, rawPayload, recs)
		if streaming(o) {
			files.WriteWindowed(s, files.Join(o.Lake, "dt={date}", "hour={hour}")+"/", files.LateWindows(s, o.Window, lateness, raw), files.Suffix(".jsonl"))
		} else {
			files.WriteLines(s, files.Join(o.Lake, "part"), ".jsonl", raw)
		}
	}

	all := beam.Flatten(s, deads...)
	if streaming(o) {
		files.WriteWindowed(s, files.Join(o.DeadLetter, "dt={date}")+"/", beam.ParDo(s, encodeFailure, files.LateWindows(s, o.Window, lateness, all)), files.Suffix(".jsonl"))
	} else {
		files.WriteLines(s, files.Join(o.DeadLetter, "part"), ".jsonl", beam.ParDo(s, encodeFailure, all))
	}
}

// encodeRecordFn writes an order of the history as one JSON line and counts it written.
type encodeRecordFn struct{ ctr record.Counters }

func (f *encodeRecordFn) ProcessElement(ctx context.Context, r record.Record) ([]byte, error) {
	r.Payload = nil
	b, err := r.AppendJSON(make([]byte, 0, 512))
	if err != nil {
		return nil, fmt.Errorf("encoding order %s: %w", r.ID, err)
	}
	f.ctr.Inc(ctx, r.Source, StageWrite, record.OutcomeWritten, "")
	return b, nil
}

func encodeFailure(f record.Failure) ([]byte, error) { return jsonx.Marshal(f) }

func encodeAlert(a ratealarm.Alert) ([]byte, error) { return jsonx.Marshal(a) }

func alertMessage(a ratealarm.Alert) pubsub.Message {
	b, _ := jsonx.Marshal(a)
	return pubsub.Message{Data: b, Attributes: map[string]string{"key": a.Key, "kind": a.Kind, "severity": a.Severity}}
}

// writeAlerts sends the alerts to one destination (a topic, a table, or files) and returns
// the sink's failures.
func writeAlerts(s beam.Scope, o Options, dest string, alerts beam.PCollection) []beam.PCollection {
	switch {
	case pubsub.IsAddress(dest):
		return []beam.PCollection{pubsub.Write(s, dest, beam.ParDo(s, alertMessage, alerts))}
	case isTable(dest):
		// ratealarm.Alert rows, partitioned by the day of their window. An alert the table
		// refuses goes to the dead letter as its JSON; it is no order, so the summary's
		// counts are untouched.
		opts := []bigquery.WriteOption{bigquery.WithPartitioning("window_start"), bigquery.WithClustering("key", "kind")}
		if streaming(o) {
			return []beam.PCollection{bigquery.Write(s, dest, alerts, opts...)}
		}
		return []beam.PCollection{bigquery.Load(s, dest, alerts, o.Staging, opts...)}
	case streaming(o):
		files.WriteWindowed(s, files.Join(dest, "dt={date}")+"/", beam.ParDo(s, encodeAlert, files.LateWindows(s, o.Window, lateness, alerts)), files.Suffix(".jsonl"))
	default:
		files.WriteLines(s, files.Join(dest, "part"), ".jsonl", beam.ParDo(s, encodeAlert, alerts))
	}
	return nil
}

// rawPayload is an order as it arrived: the line or message body, untouched.
func rawPayload(r record.Record) []byte { return r.Payload }
