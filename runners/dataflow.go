package runners

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/protox"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow/dataflowlib"
	df "google.golang.org/api/dataflow/v1b3"
)

// DataflowJob translates p into the Dataflow job it would submit, without any network call:
// no staging, no credential or bucket look-up. The worker binary and model URLs point under
// the staging location as the SDK's runner would place them; the worker hash is empty since
// nothing is built. Dataflow Runner v2 experiments are set as the SDK sets them.
func DataflowJob(ctx context.Context, p *beam.Pipeline, c Config) (*df.Job, error) {
	edges, nodes, err := p.Build()
	if err != nil {
		return nil, err
	}
	streaming := !graph.Bounded(nodes)
	env, err := graphx.CreateEnvironment(ctx, "beam:env:docker:v1", func(context.Context) string {
		return "gcr.io/cloud-dataflow/v1beta3/beam_go_sdk:" + core.SdkVersion
	})
	if err != nil {
		return nil, fmt.Errorf("creating the worker environment: %w", err)
	}
	model, err := graphx.Marshal(edges, &graphx.Options{Environment: env})
	if err != nil {
		return nil, fmt.Errorf("building the pipeline model: %w", err)
	}
	experiments := []string{"beam_fn_api", "use_runner_v2", "use_unified_worker", "use_portable_job_submission"}
	if streaming {
		experiments = append(experiments, "enable_streaming_engine", "enable_windmill_service")
	}
	temp := c.TempLocation
	if temp == "" {
		temp = strings.TrimSuffix(c.StagingLocation, "/") + "/tmp"
	}
	opts := &dataflowlib.JobOptions{
		Name:         c.JobName,
		Streaming:    streaming,
		Experiments:  experiments,
		Options:      beam.PipelineOptions.Export(),
		Project:      c.Project,
		Region:       c.Region,
		TempLocation: temp,
	}
	stage := strings.TrimSuffix(c.StagingLocation, "/") + "/" + c.JobName
	hash := sha256.Sum256(protox.MustEncode(model))
	return dataflowlib.Translate(ctx, model, opts, stage+"/worker", stage+"/model", hex.EncodeToString(hash[:]))
}
