package recommend

import (
	"encoding/json"
	"fmt"

	"github.com/beamline/beamline/io/modelstore"
)

// Kind and files of a published recommender. The algorithm is in the manifest's params and
// in model.json, so one Kind serves all four and an A/B test can pit algorithms against each
// other under different model names.
const (
	Kind       = "recommend"
	FileModel  = "model.json"
	FileReport = "report.json"
)

// Artifact lays m and its report out for modelstore.Publish under name. Extra files
// (report.html) can be added to the returned map.
func (m *Model) Artifact(name string, rep Report, data modelstore.TrainingData) (modelstore.Manifest, map[string][]byte, error) {
	if err := m.Validate(); err != nil {
		return modelstore.Manifest{}, nil, fmt.Errorf("recommend: %s: %w", name, err)
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	rb, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return modelstore.Manifest{}, nil, err
	}
	params, _ := json.Marshal(m.Params)
	metrics := map[string]float64{"items": float64(len(m.Items)), "users": float64(rep.Users), "eval_users": float64(rep.EvalUsers)}
	for _, r := range rep.Results {
		if r.Model == m.Params.Name() {
			metrics["hit_at_10"], metrics["ndcg_at_10"], metrics["recall_at_10"], metrics["coverage"] = r.HitRate, r.NDCG, r.Recall, r.Coverage
		}
		if len(rep.Results) > 0 && r.Model == rep.Results[0].Model {
			metrics["popularity_hit_at_10"], metrics["popularity_ndcg_at_10"] = r.HitRate, r.NDCG
		}
	}
	data.From, data.To, data.Records = rep.From, rep.To, int64(rep.Interactions)
	man := modelstore.Manifest{Name: name, Kind: Kind, Params: params, Metrics: metrics, Data: data}
	return man, map[string][]byte{FileModel: mb, FileReport: rb}, nil
}

// Published is a recommender read back from the store.
type Published struct {
	*Model
	Name, Version string
}

// FromArtifact decodes a published recommender: another kind is refused with
// modelstore.ErrIncompatible, a model.json that does not decode or whose parts disagree with
// modelstore.ErrCorrupt.
func FromArtifact(a *modelstore.Artifact) (*Published, error) {
	path := a.Manifest.Name + "/" + a.Manifest.Version + "/" + FileModel
	if a.Manifest.Kind != Kind {
		return nil, &modelstore.Error{Path: path, Class: modelstore.ErrIncompatible, Detail: fmt.Sprintf("kind %q is not %q", a.Manifest.Kind, Kind)}
	}
	b, ok := a.Files[FileModel]
	if !ok {
		return nil, &modelstore.Error{Path: path, Class: modelstore.ErrCorrupt, Detail: "no " + FileModel}
	}
	m := new(Model)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, &modelstore.Error{Path: path, Class: modelstore.ErrCorrupt, Detail: "model does not decode", Err: err}
	}
	if err := m.Validate(); err != nil {
		return nil, &modelstore.Error{Path: path, Class: modelstore.ErrCorrupt, Detail: "model is inconsistent", Err: err}
	}
	m.index()
	return &Published{Model: m, Name: a.Manifest.Name, Version: a.Manifest.Version}, nil
}
