package bigquery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/beamline/beamline/internal/fusion"
	"github.com/beamline/beamline/io/files"
	"github.com/beamline/beamline/transforms/record"
	"google.golang.org/api/googleapi"
)

func init() {
	register.DoFn3x0[beam.X, func([]byte), func(record.Failure)](&jsonLineFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&loadFn{})
	register.Emitter1[[]byte]()
	register.Iter1[string]()
}

// LoadError is a load job BigQuery ran and failed, with the errors it reported.
type LoadError struct {
	Table  Table
	JobID  string
	Errors []*bigquery.Error
}

func (e *LoadError) Error() string {
	msgs := make([]string, 0, len(e.Errors))
	for i, er := range e.Errors {
		if i == 5 {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(e.Errors)-5))
			break
		}
		msgs = append(msgs, er.Error())
	}
	return fmt.Sprintf("bigquery: load job %s into %s failed: %s", e.JobID, e.Table, strings.Join(msgs, "; "))
}

// ErrMixedStaging is returned when staged files are partly on gs:// and partly local.
var ErrMixedStaging = errors.New("bigquery: staged files mix gs:// and local paths")

// LoadFiles appends newline-delimited JSON files to t with one load job and waits for it.
// gs:// files are loaded by URI; local files are uploaded as one stream. The table must exist
// (see EnsureTable). A job that ends with errors is a *LoadError.
//
// mediaOpts tune the upload of local files; googleapi.ChunkSize(0) sends them in one request,
// which goccy/bigquery-emulator needs (it fails resumable uploads with a nil dereference).
func LoadFiles(ctx context.Context, c *bigquery.Client, t Table, names []string, mediaOpts ...googleapi.MediaOption) (*bigquery.JobStatus, error) {
	if len(names) == 0 {
		return nil, nil
	}
	gcs := 0
	for _, n := range names {
		if strings.HasPrefix(n, "gs://") {
			gcs++
		}
	}
	if gcs != 0 && gcs != len(names) {
		return nil, ErrMixedStaging
	}
	// One job id for every attempt: a retried insert of a job that was in fact created
	// answers "already exists" instead of loading the rows twice.
	jobID := "beamline_load_" + randomJobSuffix()
	var job *bigquery.Job
	for attempt := 1; ; attempt++ {
		src, closeSrc, err := loadSource(names, gcs > 0)
		if err != nil {
			return nil, err
		}
		l := c.DatasetInProject(t.Project, t.Dataset).Table(t.Table).LoaderFrom(src)
		l.WriteDisposition = bigquery.WriteAppend
		l.CreateDisposition = bigquery.CreateNever
		l.MediaOptions = mediaOpts
		l.JobID = jobID
		job, err = l.Run(ctx)
		closeSrc()
		if err == nil {
			break
		}
		var ge *googleapi.Error
		if errors.As(err, &ge) && ge.Code == http.StatusConflict {
			// Created by an earlier attempt whose answer was lost: wait for that job.
			if job, err = c.JobFromIDLocation(ctx, jobID, l.Location); err == nil {
				break
			}
		}
		// A 5xx (goccy/bigquery-emulator answers "database table is locked" so when
		// concurrent jobs meet in its SQLite file) is worth another try.
		if !(errors.As(err, &ge) && ge.Code >= 500) || attempt >= loadAttempts {
			return nil, fmt.Errorf("bigquery: starting the load job into %s: %w", t, err)
		}
		select {
		case <-time.After(time.Duration(attempt*attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	st, err := job.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("bigquery: waiting for load job %s into %s: %w", job.ID(), t, err)
	}
	if st.Err() != nil {
		errs := st.Errors
		if len(errs) == 0 {
			errs = []*bigquery.Error{st.Err().(*bigquery.Error)}
		}
		return st, &LoadError{Table: t, JobID: job.ID(), Errors: errs}
	}
	return st, nil
}

// loadAttempts bounds the tries to start one load job.
const loadAttempts = 6

// loadSource opens the staged files as one load source; the returned func closes them.
func loadSource(names []string, gcs bool) (bigquery.LoadSource, func(), error) {
	if gcs {
		ref := bigquery.NewGCSReference(names...)
		ref.SourceFormat = bigquery.JSON
		return ref, func() {}, nil
	}
	var readers []io.Reader
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("bigquery: opening staged file: %w", err)
		}
		opened = append(opened, f)
		readers = append(readers, f)
	}
	rs := bigquery.NewReaderSource(io.MultiReader(readers...))
	rs.SourceFormat = bigquery.JSON
	return rs, closeAll, nil
}

func randomJobSuffix() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Load appends rows to table with one BigQuery load job: rows are staged as newline-delimited
// JSON files under staging (a gs:// prefix, or a local directory when BigQuery is reached
// through an upload, as with the emulator), then loaded WRITE_APPEND once all are written.
// The table is created or given new columns first, as Write does. Rows that cannot be encoded
// go to dead before staging; a job that fails is an error of the pipeline (infrastructure),
// reporting the job's errors. The staged files are removed after a successful job.
//
//	rows: PCollection<T> for a struct type T, or PCollection<record.Record>
//	dead: PCollection<record.Failure>
//
// Example:
//
//	dead := bigquery.Load(s, "bq://my-project.shop.orders", orders, "gs://my-bucket/tmp/bq")
func Load(s beam.Scope, table string, rows beam.PCollection, staging string, opts ...WriteOption) (dead beam.PCollection) {
	t := mustParseTable("bigquery.Load", table)
	p := rowPlan("bigquery.Load", rows)
	if staging == "" {
		panic("bigquery.Load: argument staging is empty; give a gs:// prefix or a local directory for the staged files")
	}
	cfg := newWriteConfig(opts)
	if err := checkOptions(p.schema, cfg.table); err != nil {
		panic(fmt.Sprintf("bigquery.Load: table options: %v", err))
	}
	s = s.Scope(fmt.Sprintf("bigquery.Load(%s)", t))
	ready := ensure(s, t, p, cfg)
	lines, invalid := beam.ParDo2(s, &jsonLineFn{}, rows)
	dir := strings.TrimSuffix(staging, "/") + "/beamline-load-" + randomHex(8)
	staged := files.WriteLines(s, dir+"/rows", ".jsonl", lines)
	// The staged files wait for the table in a step of their own, not in loadFn, which waits
	// for the load job: see internal/fusion.
	beam.ParDo0(s, &loadFn{Conn: cfg.conn, Table: t, Dir: dir},
		beam.GroupByKey(s, beam.AddFixedKey(s, fusion.After(s, ready, staged))))
	return invalid
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// jsonLineFn encodes each row as one line of newline-delimited JSON.
type jsonLineFn struct{}

func (f *jsonLineFn) ProcessElement(x beam.X, emit func([]byte), dead func(record.Failure)) {
	v, p, err := rowValue(x)
	var b []byte
	if err == nil {
		b, err = p.appendJSON(make([]byte, 0, 256), v)
	}
	if err != nil {
		dead(elementFailure(StageLoad, x, err))
		return
	}
	emit(b)
}

// loadFn runs the load job over every staged file, once they are all written.
type loadFn struct {
	Conn  Conn   `json:"conn"`
	Table Table  `json:"table"`
	Dir   string `json:"dir"`
}

func (f *loadFn) ProcessElement(ctx context.Context, _ int, staged func(*string) bool) error {
	var names []string
	var n string
	for staged(&n) {
		names = append(names, n)
	}
	sort.Strings(names)
	c, err := f.Conn.NewClient(ctx, f.Table)
	if err != nil {
		return err
	}
	defer c.Close()
	var media []googleapi.MediaOption
	if f.Conn.Emulator {
		media = append(media, googleapi.ChunkSize(0))
		// Load jobs meeting in the emulator's one SQLite file fail with "table is locked",
		// and one can be recorded without its rows loaded: run them one at a time, as the
		// appends are (see emulatorMu).
		emulatorMu.Lock()
		defer emulatorMu.Unlock()
	}
	if _, err := LoadFiles(ctx, c, f.Table, names, media...); err != nil {
		return err
	}
	_ = files.RemoveAll(ctx, f.Dir) // best effort: the rows are loaded
	return nil
}
