// Package runners is the one entry every Beamline main uses to run a pipeline:
//
//	flag.Parse()
//	beam.Init()
//	p, s := beam.NewPipelineWithRoot()
//	…
//	res, err := runners.Run(ctx, p)
//
// It reads Beam's own flags (--runner, --endpoint, --environment_type, --project, --region,
// --staging_location, --dry_run, --job_name) and checks them per runner before anything is
// submitted, so a missing flag fails at once with a sentence naming it and the fix, rather
// than minutes later inside the SDK:
//
//   - prism (the default): Beam's local runner, in process.
//   - flink, universal: a portable Job API endpoint. --endpoint and --environment_type
//     (LOOPBACK, EXTERNAL or DOCKER) are required: left empty, the SDK silently picks DOCKER.
//   - dataflow: --project, --region and --staging_location (gs://…) are required. With
//     --dry_run the job is translated offline and its JSON printed to stdout; nothing is staged
//     or submitted and no network is used.
//
// --cpuprofile=FILE writes a CPU profile of the process while the pipeline runs: with prism
// in process, that is the runner and the SDK harness together, the whole local job (go tool
// pprof FILE). On other runners it profiles only the launcher; Dataflow has --cpu_profiling.
package runners

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/gcpopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	beamrunners "github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow" // registers dataflow and its flags
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

var cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of this process while the pipeline runs to this file (prism: the whole local job)")

// Names of the runners Run accepts, and their aliases.
var runnerAliases = map[string]string{
	"": "prism", "prism": "prism", "PrismRunner": "prism",
	"flink": "flink", "FlinkRunner": "flink",
	"universal": "universal", "portable": "universal", "PortableRunner": "universal",
	"dataflow": "dataflow", "DataflowRunner": "dataflow",
}

// Environment types a portable runner accepts.
var envTypes = []string{"LOOPBACK", "EXTERNAL", "DOCKER"}

// Config is what Run needs from the flags; FromFlags reads it.
type Config struct {
	Runner          string
	Endpoint        string
	EnvironmentType string
	EnvironmentCfg  string
	Project         string
	Region          string
	StagingLocation string
	TempLocation    string
	DryRun          bool
	JobName         string
}

// FromFlags reads Config from Beam's registered command-line flags.
func FromFlags() Config {
	return Config{
		Runner:          *beamrunners.Runner,
		Endpoint:        *jobopts.Endpoint,
		EnvironmentType: *jobopts.EnvironmentType,
		EnvironmentCfg:  *jobopts.EnvironmentConfig,
		Project:         *gcpopts.Project,
		Region:          *gcpopts.Region,
		StagingLocation: flagValue("staging_location"),
		TempLocation:    flagValue("temp_location"),
		DryRun:          flagValue("dry_run") == "true",
		JobName:         *jobopts.JobName,
	}
}

func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// Validate checks c for its runner and returns every problem, each naming the flag and the fix.
func (c Config) Validate() error {
	name, ok := runnerAliases[c.Runner]
	if !ok {
		return fmt.Errorf("--runner=%s is not supported; use prism (the default), flink, universal or dataflow", c.Runner)
	}
	var errs []error
	if name == "flink" || name == "universal" || (name == "prism" && c.Endpoint != "") {
		if c.Endpoint == "" {
			errs = append(errs, fmt.Errorf("--endpoint is required with --runner=%s: the job server's host:port (e.g. --endpoint=localhost:8099)", c.Runner))
		}
		switch strings.ToUpper(c.EnvironmentType) {
		case "":
			errs = append(errs, fmt.Errorf("--environment_type is required with --runner=%s: LOOPBACK (workers in this process; the job server must reach it on localhost), EXTERNAL (with --environment_config=host:port of a worker pool) or DOCKER; left empty the SDK would silently choose DOCKER", runnerOr(c.Runner, "prism")))
		case "LOOPBACK", "DOCKER":
		case "EXTERNAL":
			if c.EnvironmentCfg == "" {
				errs = append(errs, fmt.Errorf("--environment_config is required with --environment_type=EXTERNAL: the worker pool's host:port (e.g. --environment_config=localhost:50000)"))
			}
		default:
			errs = append(errs, fmt.Errorf("--environment_type=%s is not one of %s", c.EnvironmentType, strings.Join(envTypes, ", ")))
		}
	}
	if name == "dataflow" {
		if c.Project == "" {
			errs = append(errs, errors.New("--project is required with --runner=dataflow (e.g. --project=my-gcp-project)"))
		}
		if c.Region == "" {
			errs = append(errs, errors.New("--region is required with --runner=dataflow (e.g. --region=europe-west1)"))
		}
		if !strings.HasPrefix(c.StagingLocation, "gs://") || len(c.StagingLocation) <= len("gs://") {
			errs = append(errs, fmt.Errorf("--staging_location is required with --runner=dataflow and must be a gs:// path (e.g. --staging_location=gs://my-bucket/staging), got %q", c.StagingLocation))
		}
		if c.TempLocation != "" && !strings.HasPrefix(c.TempLocation, "gs://") {
			errs = append(errs, fmt.Errorf("--temp_location must be a gs:// path with --runner=dataflow, got %q", c.TempLocation))
		}
		if t := strings.ToUpper(c.EnvironmentType); t == "LOOPBACK" || t == "EXTERNAL" {
			errs = append(errs, fmt.Errorf("--environment_type=%s cannot be used with --runner=dataflow; leave it empty", c.EnvironmentType))
		}
		if c.JobName != "" && !jobNameRE.MatchString(c.JobName) {
			errs = append(errs, fmt.Errorf("--job_name=%s is not a valid Dataflow job name: lower-case letters, digits and -, starting with a letter", c.JobName))
		}
	}
	if c.DryRun && name != "dataflow" {
		errs = append(errs, fmt.Errorf("--dry_run is only for --runner=dataflow"))
	}
	return errors.Join(errs...)
}

func runnerOr(r, def string) string {
	if r == "" {
		return def
	}
	return r
}

var jobNameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// JobName is the default job name: the program's name and the start time,
// such as "ingest-20261122-101500", valid on Dataflow and Flink alike.
func JobName(now time.Time) string {
	base := strings.ToLower(filepath.Base(os.Args[0]))
	base = regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(base, "-")
	base = strings.Trim(base, "-")
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "beamline-" + base
	}
	return strings.Trim(base, "-") + "-" + now.UTC().Format("20060102-150405")
}

// Check validates the runner flags; mains call it right after flag.Parse, so a bad flag fails
// before any pipeline is constructed. Run checks them again.
func Check() error { return FromFlags().Validate() }

// Run validates the runner flags and runs p. The result is nil for a Dataflow dry run, whose
// job JSON goes to stdout.
func Run(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	return RunConfig(ctx, p, FromFlags(), os.Stdout)
}

// RunConfig is Run with an explicit configuration; a dry run's job JSON goes to w.
func RunConfig(ctx context.Context, p *beam.Pipeline, c Config, w io.Writer) (beam.PipelineResult, error) {
	if !beam.Initialized() {
		return nil, errors.New("runners.Run: call beam.Init() after flag.Parse() in main, before building the pipeline")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	name := runnerAliases[c.Runner]
	if c.JobName == "" {
		c.JobName = JobName(time.Now())
		*jobopts.JobName = c.JobName
	}
	if name == "dataflow" && c.DryRun {
		job, err := DataflowJob(ctx, p, c)
		if err != nil {
			return nil, err
		}
		b, err := job.MarshalJSON()
		if err != nil {
			return nil, err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return nil, err
	}
	// The flags are set for the SDK's runners, which read them directly.
	*jobopts.Endpoint = c.Endpoint
	*jobopts.EnvironmentType = c.EnvironmentType
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return beam.Run(ctx, name, p)
}
