package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/features"
	"github.com/beamline/beamline/transforms/record"
)

func init() {
	register.DoFn1x1[clean.Hit, HitRow](&toHitRowFn{})
	register.DoFn1x1[record.Failure, record.Failure](&sinkRefusedFn{})
	register.DoFn2x0[record.Failure, func(string, Tally)](&refusedStatsFn{})
	register.Function1x1(failRefusedFn)
	beam.RegisterType(reflect.TypeOf((*HitRow)(nil)).Elem())
}

// HitRow is one parsed hit as a row of the --output=bq:// table. The table is partitioned by
// day on time and clustered by status and host (hitTableOptions): the usual questions — errors
// of a day, one client's requests — read one partition's matching blocks.
//
// Besides the fields of clean.Hit that the combined, common, vhost and nginx formats fill, a
// row carries what the summary's aggregation already derives per hit and a query would
// otherwise have to re-derive in SQL: the browser, OS and bot flag of the user agent, the
// referrer's host, and whether GoAccess counts the request as a static file.
type HitRow struct {
	// Time is the request time (TIMESTAMP, so UTC in the table); NULL when the format has no
	// time. Days in summary.json are in the server's offset, days of this column in UTC.
	Time      time.Time `json:"time"`
	Host      string    `json:"host"`
	User      string    `json:"user"`
	Method    string    `json:"method"`
	Path      string    `json:"path"` // with the query string
	Protocol  string    `json:"protocol"`
	Request   string    `json:"request"`
	Status    int       `json:"status"`
	Bytes     int64     `json:"bytes"`
	Referer   string    `json:"referer"`
	UserAgent string    `json:"user_agent"`
	VHost     string    `json:"vhost"`
	// DurationS is the time taken in seconds; NULL when the format does not log it.
	DurationS *float64 `json:"duration_s"`

	Browser      string `json:"browser"`
	OS           string `json:"os"`
	Bot          bool   `json:"bot"`
	ReferrerHost string `json:"referrer_host"`
	Static       bool   `json:"static"`

	// Origin and Line say where the hit was read: the file and 1-based line number, or the
	// subscription when streaming.
	Origin string `json:"origin"`
	Line   int64  `json:"line"`
}

// NewHitRow is the table row of h, its user agent classified through uas (nil: parsed). It is
// the pure core of the BigQuery output.
func NewHitRow(h *clean.Hit, uas *features.UserAgentCache) HitRow {
	ua := uas.Parse(h.UserAgent)
	r := HitRow{Time: h.Time, Host: h.Host, User: h.User, Method: h.Method, Path: h.Path,
		Protocol: h.Protocol, Request: h.Request, Status: h.Status, Bytes: h.Bytes, Referer: h.Referer,
		UserAgent: h.UserAgent, VHost: h.VHost, Browser: ua.Browser, OS: ua.OS, Bot: ua.Bot,
		ReferrerHost: features.ReferrerHost(h.Referer),
		Static:       h.Status != 404 && features.GoAccessIsStatic(features.GoAccessRequestKey(h).Target, features.GoAccessStaticExtensions),
		Origin:       h.Origin, Line: h.Line}
	if h.Duration > 0 {
		d := h.Duration.Seconds()
		r.DurationS = &d
	}
	return r
}

// toHitRowFn makes the table rows, with the per-worker user-agent cache hitStatsFn also keeps.
type toHitRowFn struct{ uas *features.UserAgentCache }

func (f *toHitRowFn) ProcessElement(h clean.Hit) HitRow {
	if f.uas == nil {
		f.uas = features.NewUserAgentCache(0)
	}
	return NewHitRow(&h, f.uas)
}

// hitTableOptions are the options of the hits table the job creates.
func hitTableOptions() []bigquery.WriteOption {
	return []bigquery.WriteOption{bigquery.WithTableOptions(bigquery.TableOptions{
		PartitionField: "time", Clustering: []string{"status", "host"},
		Description: "Beamline logs job: parsed access-log hits (pipelines/logs)"})}
}

// isTable reports whether an address is a BigQuery table.
func isTable(addr string) bool { return strings.HasPrefix(addr, bigquery.Scheme) }

// writeHitsTable sends the hits to the --output table, by one load job in batch or through
// the Storage Write API when streaming, and returns the hits the sink refused as dead letters.
//
//	hits:    PCollection<clean.Hit>
//	refused: PCollection<record.Failure>
func writeHitsTable(s beam.Scope, o Options, hits beam.PCollection, streaming bool) (refused beam.PCollection) {
	s = s.Scope("logs.WriteHitsTable")
	rows := beam.ParDo(s, &toHitRowFn{}, hits)
	var dead beam.PCollection
	if streaming {
		dead = bigquery.Write(s, o.Output, rows, hitTableOptions()...)
	} else {
		dead = bigquery.Load(s, o.Output, rows, o.staging(), hitTableOptions()...)
	}
	return beam.ParDo(s, &sinkRefusedFn{}, dead)
}

// sinkRefusedFn tags a row the table refused with the job's source, so that it is found
// beside the lines that did not parse.
type sinkRefusedFn struct{}

func (sinkRefusedFn) ProcessElement(fl record.Failure) record.Failure {
	if fl.Source == "" {
		fl.Source = SourceName
	}
	if fl.Origin == "" {
		fl.Origin, fl.Offset = rowOrigin(fl.PayloadBytes)
	}
	return fl
}

// rowOrigin reads the file and line of a refused row from its JSON, so that its dead letter
// says where the line is as a parse failure does. The row is JSON as Load writes it (line a
// number) or as Write renders a refused row (protojson: line a string).
func rowOrigin(payload []byte) (string, int64) {
	var r struct {
		Origin string          `json:"origin"`
		Line   json.RawMessage `json:"line"`
	}
	if json.Unmarshal(payload, &r) != nil {
		return "", 0
	}
	n, _ := strconv.ParseInt(strings.Trim(string(r.Line), `"`), 10, 64)
	return r.Origin, n
}

// refusedStatsFn counts the hits the sink refused: the summary moves them from written to
// dead (they are counted under parsed and, by their reason, under dead), so lines read still
// equals written + dead.
type refusedStatsFn struct{}

func (refusedStatsFn) ProcessElement(_ record.Failure, emit func(string, Tally)) {
	emit(kindRefused, Tally{Hits: 1})
}

// writeDeadTable writes the dead letters to a BigQuery table. A failure that table refuses
// too has nowhere better to go than the job's log: it fails the bundle so the runner retries
// rather than drop it.
func writeDeadTable(s beam.Scope, table string, dead beam.PCollection) {
	s = s.Scope("logs.WriteDeadTable")
	beam.ParDo0(s, failRefusedFn, bigquery.WriteFailures(s, table, dead))
}

func failRefusedFn(fl record.Failure) error {
	return fmt.Errorf("the dead-letter table refused a failure of %s (%s: %s); the bundle fails so it is retried", fl.Source, fl.Reason, fl.Message)
}

// checkTable validates a bq:// address given to flag.
func checkTable(flag, addr string) error {
	if _, err := bigquery.ParseTable(addr); err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	return nil
}

// staging is where the load job's rows are staged.
func (o Options) staging() string {
	if o.Staging != "" {
		return o.Staging
	}
	return files.Join(o.reportDir(), "staging")
}

// isPath reports whether an address is a local path or a gs:// prefix.
func isPath(addr string) bool {
	return !strings.Contains(addr, "://") || strings.HasPrefix(addr, "gs://")
}

// checkOutputs validates --output, --report_dir, --dead_letter and --staging, naming the flag
// and the fix.
func (o Options) checkOutputs() error {
	switch {
	case o.Output == "":
		return fmt.Errorf("--output is required: a directory or gs:// prefix (e.g. --output=out/logs), or a table for the hits (e.g. --output=bq://my-project.web.hits --report_dir=out/logs)")
	case isTable(o.Output):
		if err := checkTable("output", o.Output); err != nil {
			return err
		}
		if o.ReportDir == "" {
			return fmt.Errorf("--report_dir is required with --output=%s: a directory or gs:// prefix for summary.json and report.html (e.g. --report_dir=out/logs)", o.Output)
		}
		if !o.WriteHits {
			return fmt.Errorf("--hits=false with --output=%s would write nothing to the table: drop --hits=false, or give a directory as --output", o.Output)
		}
	case !isPath(o.Output):
		return fmt.Errorf("--output=%s: use a local directory, gs://bucket/prefix or bq://project.dataset.table", o.Output)
	}
	if o.ReportDir != "" && !isPath(o.ReportDir) {
		return fmt.Errorf("--report_dir=%s: use a local directory or gs://bucket/prefix", o.ReportDir)
	}
	if o.Staging != "" && !isPath(o.Staging) {
		return fmt.Errorf("--staging=%s: use a local directory or gs://bucket/prefix", o.Staging)
	}
	switch dl := o.DeadLetter; {
	case isTable(dl):
		return checkTable("dead_letter", dl)
	case !isPath(dl):
		return fmt.Errorf("--dead_letter=%s: use a local directory, gs://bucket/prefix or bq://project.dataset.table", dl)
	}
	return nil
}
