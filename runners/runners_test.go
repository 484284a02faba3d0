package runners_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/internal/dev/testenv"
	"github.com/beamline/beamline/runners"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() { register.Function1x1(reasonOf) }

func reasonOf(f record.Failure) string { return f.Reason }

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c    runners.Config
		want []string // substrings of the error; none means valid
	}{
		{runners.Config{}, nil},
		{runners.Config{Runner: "prism"}, nil},
		{runners.Config{Runner: "spark"}, []string{"--runner=spark is not supported"}},
		{runners.Config{Runner: "flink"}, []string{"--endpoint is required with --runner=flink", "--environment_type is required with --runner=flink", "silently choose DOCKER"}},
		{runners.Config{Runner: "universal", Endpoint: "localhost:8099"}, []string{"--environment_type is required"}},
		{runners.Config{Runner: "flink", Endpoint: "h:1", EnvironmentType: "loopback"}, nil},
		{runners.Config{Runner: "flink", Endpoint: "h:1", EnvironmentType: "EXTERNAL"}, []string{"--environment_config is required with --environment_type=EXTERNAL"}},
		{runners.Config{Runner: "flink", Endpoint: "h:1", EnvironmentType: "PROCESS"}, []string{"--environment_type=PROCESS is not one of LOOPBACK, EXTERNAL, DOCKER"}},
		{runners.Config{Runner: "prism", Endpoint: "h:1"}, []string{"--environment_type is required with --runner=prism"}},
		{runners.Config{Runner: "dataflow"}, []string{"--project is required with --runner=dataflow", "--region is required with --runner=dataflow (e.g. --region=europe-west1)", "--staging_location is required"}},
		{runners.Config{Runner: "dataflow", Project: "p", Region: "r", StagingLocation: "/tmp/x"}, []string{"must be a gs:// path"}},
		{runners.Config{Runner: "dataflow", Project: "p", Region: "r", StagingLocation: "gs://b/s", EnvironmentType: "LOOPBACK"}, []string{"cannot be used with --runner=dataflow"}},
		{runners.Config{Runner: "dataflow", Project: "p", Region: "r", StagingLocation: "gs://b/s", JobName: "Bad_Name"}, []string{"--job_name=Bad_Name is not a valid Dataflow job name"}},
		{runners.Config{Runner: "dataflow", Project: "p", Region: "r", StagingLocation: "gs://b/s", DryRun: true}, nil},
		{runners.Config{DryRun: true}, []string{"--dry_run is only for --runner=dataflow"}},
	} {
		err := tc.c.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", tc.c, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v) = %v, want it to say %q", tc.c, err, w)
			}
		}
	}
}

func TestJobName(t *testing.T) {
	n := runners.JobName(time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC))
	if !strings.HasSuffix(n, "-20261122-101500") || strings.ToLower(n) != n {
		t.Errorf("JobName = %q", n)
	}
}

// smallPipeline tags and parses three lines, one bad, and asserts both outputs.
func smallPipeline() *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	src := tag.Source{Name: "t", Kind: "k", Format: "json", Glob: "-"}
	recs := tag.Lines(s, src, beam.Create(s, `{"a":1}`, `{"a":`, `{"a":2}`))
	ok, dead := clean.Parse(s, recs, clean.ParseSpec{Format: "json"})
	passert.Count(s, ok, "ok", 2)
	passert.Equals(s, beam.ParDo(s, reasonOf, dead), "json_truncated")
	return p
}

func TestDataflowDryRunJSON(t *testing.T) {
	var out bytes.Buffer
	c := runners.Config{Runner: "dataflow", Project: "beamline-test", Region: "europe-west1", StagingLocation: "gs://bucket/staging", DryRun: true, JobName: "ingest-dry-run"}
	res, err := runners.RunConfig(context.Background(), smallPipeline(), c, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res != nil {
		t.Errorf("dry run returned a result %v, want nil", res)
	}
	var job struct {
		Name        string `json:"name"`
		ProjectID   string `json:"projectId"`
		Type        string `json:"type"`
		Environment struct {
			Experiments       []string `json:"experiments"`
			TempStoragePrefix string   `json:"tempStoragePrefix"`
			WorkerPools       []struct {
				Packages []struct {
					Location string `json:"location"`
				} `json:"packages"`
				SdkHarnessContainerImages []struct {
					ContainerImage string `json:"containerImage"`
				} `json:"sdkHarnessContainerImages"`
			} `json:"workerPools"`
		} `json:"environment"`
		Steps []struct {
			Name string `json:"name"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(out.Bytes(), &job); err != nil {
		t.Fatalf("dry run printed %q, not job JSON: %v", out.String(), err)
	}
	if job.Name != "ingest-dry-run" || job.ProjectID != "beamline-test" || job.Type != "JOB_TYPE_BATCH" {
		t.Errorf("job name/project/type = %q/%q/%q", job.Name, job.ProjectID, job.Type)
	}
	exps := strings.Join(job.Environment.Experiments, ",")
	for _, e := range []string{"beam_fn_api", "use_runner_v2", "use_unified_worker", "use_portable_job_submission"} {
		if !strings.Contains(exps, e) {
			t.Errorf("experiments %s lack %s", exps, e)
		}
	}
	if job.Environment.TempStoragePrefix != "gs://bucket/staging/tmp" {
		t.Errorf("tempStoragePrefix = %q", job.Environment.TempStoragePrefix)
	}
	if len(job.Environment.WorkerPools) != 1 || len(job.Environment.WorkerPools[0].Packages) == 0 ||
		job.Environment.WorkerPools[0].Packages[0].Location != "gs://bucket/staging/ingest-dry-run/worker" {
		t.Errorf("worker pools = %+v, want the worker binary under the staging location", job.Environment.WorkerPools)
	} else if imgs := job.Environment.WorkerPools[0].SdkHarnessContainerImages; len(imgs) == 0 || !strings.HasSuffix(imgs[0].ContainerImage, ":"+core.SdkVersion) {
		t.Errorf("container images = %+v, want the Go SDK %s image", imgs, core.SdkVersion)
	}
}

func TestUniversalRunnerAgainstPrismJobServer(t *testing.T) {
	endpoint := testenv.PrismJobServer(t)
	defer func(e, env string) { *jobopts.Endpoint, *jobopts.EnvironmentType = e, env }(*jobopts.Endpoint, *jobopts.EnvironmentType)
	c := runners.Config{Runner: "universal", Endpoint: endpoint, EnvironmentType: "LOOPBACK", JobName: "universal-test"}
	res, err := runners.RunConfig(context.Background(), smallPipeline(), c, nil)
	if err != nil {
		t.Fatalf("universal run against %s: %v", endpoint, err)
	}
	var read int64
	for _, ctr := range res.Metrics().AllMetrics().Counters() {
		if ctr.Key.Namespace == record.MetricNamespace && ctr.Key.Name == "t/tag/read" {
			read += ctr.Result()
		}
	}
	if read != 3 {
		t.Errorf("counter t/tag/read = %d through the Job API, want 3", read)
	}
}
