package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/beamline/beamline/io/pubsub"
	"github.com/beamline/beamline/transforms/clean"
	"github.com/beamline/beamline/transforms/tag"
)

// SourceConfig is one source of the ingest job: the source definition tag uses, plus how
// clean treats its records. In YAML all fields sit side by side:
//
//   - name: orders
//     kind: order
//     format: json
//     glob: orders/*.jsonl
//     event_time: {field: created_at, format: rfc3339}
//     dedupe_key: order_id
//     rules:
//   - {field: order_id, required: true, type: string, max_len: 64}
//     normalise:
//     money: [{amount: total, currency: currency}]
type SourceConfig struct {
	tag.Source `yaml:",inline"`
	// Rules validate parsed records; none means no Validate step.
	Rules []clean.Rule `yaml:"rules,omitempty"`
	// Normalise lists normalisations; empty means no Normalise step.
	Normalise clean.NormaliseSpec `yaml:"normalise,omitempty"`
	// DedupeKey is the field records are deduplicated by; empty means the record ID (the
	// message id, or the content hash, so identical lines are duplicates).
	DedupeKey string `yaml:"dedupe_key,omitempty"`
	// MaxBytes is the payload limit (clean.ParseSpec.MaxBytes).
	MaxBytes int `yaml:"max_bytes,omitempty"`
}

// LoadConfig reads source configs from path. Relative globs are taken relative to the file's
// directory, so a config and its data move together.
func LoadConfig(path string) ([]SourceConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--sources: %w", err)
	}
	var cfgs []SourceConfig
	srcs, err := tag.ParseSources(path, b, &cfgs)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for i := range cfgs {
		cfgs[i].Source = srcs[i]
		if g := cfgs[i].Glob; g != "" && !strings.Contains(g, "://") && !filepath.IsAbs(g) {
			cfgs[i].Glob = filepath.Join(dir, g)
		}
		if err := cfgs[i].check(); err != nil {
			return nil, fmt.Errorf("%s: source %q: %w", path, cfgs[i].Name, err)
		}
	}
	return cfgs, nil
}

// check builds the clean steps' cores once, so a bad rule fails at load with the source, and
// the rule's field, named.
func (c *SourceConfig) check() error {
	if c.Subscription != "" {
		if _, err := pubsub.ParseSubscription(c.Subscription); err != nil {
			return fmt.Errorf("field subscription: %w", err)
		}
	}
	if _, err := clean.NewSteps(c.spec()); err != nil {
		return fmt.Errorf("fields format, rules, normalise or event_time: %w", err)
	}
	return nil
}

// spec is the clean.Spec of the source: parse always, the other steps when configured.
func (c *SourceConfig) spec() clean.Spec {
	ps := c.parseSpec()
	spec := clean.Spec{Parse: &ps, Rules: c.Rules}
	if c.hasNormalise() {
		spec.Normalise = &c.Normalise
	}
	if c.EventTime.Field != "" {
		spec.EventTime = &clean.TimeField{Field: c.EventTime.Field, Format: c.EventTime.Format}
	}
	return spec
}

func (c *SourceConfig) parseSpec() clean.ParseSpec {
	spec := clean.ParseSpec{Format: c.Format, Columns: c.CSV.Columns, MaxBytes: c.MaxBytes}
	if d := []rune(c.CSV.Delimiter); len(d) == 1 {
		spec.Delimiter = d[0]
	}
	return spec
}

func (c *SourceConfig) hasNormalise() bool {
	n := c.Normalise
	return n.Trim || len(n.Lower)+len(n.Upper)+len(n.Emails)+len(n.Hosts)+len(n.Timestamps)+len(n.Money) > 0
}
