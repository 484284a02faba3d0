// Package abtest splits users between the variants of an experiment and judges the result.
//
// Assignment is a pure function of the experiment's salt and the user id (SHA-256 of both,
// read as a number in [0, 1) and cut by the variants' shares), so it is the same on every
// worker, every day and in every job — the recommender that serves a user and the analysis
// that counts their conversion agree without sharing state — and a new salt reshuffles
// everyone for a new experiment. The config is a small YAML (or JSON) file:
//
//	salt: recs-2026-12
//	control: B
//	variants:
//	  - {name: A, model: recs-als, share: 0.5}
//	  - {name: B, model: recs-pop, share: 0.5, version: 20261201T000000Z}
//
// The statistics are plain functions: TwoProportion (difference of conversion rates with a
// 95 % confidence interval, z test) and SampleRatio (χ² test that exposures follow the
// declared shares: a sample-ratio mismatch means the split or the logging is broken and the
// result must not be trusted).
//
// transforms/apply has its own split (FNV-32 of a document id modulo 100, without a salt)
// for its topic models; this package is the salted, fine-grained one for user experiments.
package abtest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"gopkg.in/yaml.v3"
)

// Variant is one arm of an experiment: what serves it and its share of users.
type Variant struct {
	Name    string  `json:"name" yaml:"name"`                           // label stamped on exposures, e.g. "A"
	Model   string  `json:"model" yaml:"model"`                         // model name in the store
	Version string  `json:"version,omitempty" yaml:"version,omitempty"` // pinned version; empty follows LATEST
	Share   float64 `json:"share" yaml:"share"`                         // of users, in (0, 1]; shares sum to 1
}

// Config is one experiment.
type Config struct {
	Salt     string    `json:"salt" yaml:"salt"`
	Control  string    `json:"control" yaml:"control"` // the variant others are compared with
	Variants []Variant `json:"variants" yaml:"variants"`
}

// Validate names what is wrong and the fix.
func (c Config) Validate() error {
	if c.Salt == "" {
		return fmt.Errorf("abtest: the salt is empty: name the experiment (e.g. salt: recs-2026-12)")
	}
	if len(c.Variants) == 0 {
		return fmt.Errorf("abtest: no variants: give at least one (e.g. variants: [{name: A, model: recs, share: 1}])")
	}
	seen := map[string]bool{}
	var sum float64
	for i, v := range c.Variants {
		if v.Name == "" {
			return fmt.Errorf("abtest: variant %d has no name", i+1)
		}
		if seen[v.Name] {
			return fmt.Errorf("abtest: variant %q appears twice", v.Name)
		}
		seen[v.Name] = true
		if v.Model == "" {
			return fmt.Errorf("abtest: variant %q has no model", v.Name)
		}
		if !(v.Share > 0 && v.Share <= 1) {
			return fmt.Errorf("abtest: variant %q has share %g, want a number in (0, 1]", v.Name, v.Share)
		}
		sum += v.Share
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("abtest: the variants' shares sum to %g, want 1", sum)
	}
	if c.Control == "" || !seen[c.Control] {
		return fmt.Errorf("abtest: control %q is not a variant: name one (e.g. control: %s)", c.Control, c.Variants[0].Name)
	}
	return nil
}

// Parse reads a YAML or JSON config and validates it.
func Parse(b []byte) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("abtest: %w", err)
	}
	return c, c.Validate()
}

// Load reads and validates the config file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Point is where user falls in [0, 1) under salt.
func Point(salt, user string) float64 {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(user))
	var sum [sha256.Size]byte
	// 53 bits: exactly representable in a float64.
	return float64(binary.BigEndian.Uint64(h.Sum(sum[:0]))>>11) / (1 << 53)
}

// Assign returns the index of user's variant. The config must be valid.
func (c Config) Assign(user string) int {
	x := Point(c.Salt, user)
	for i, v := range c.Variants {
		if x < v.Share {
			return i
		}
		x -= v.Share
	}
	return len(c.Variants) - 1
}

// Index returns the index of the variant called name, or -1.
func (c Config) Index(name string) int {
	for i, v := range c.Variants {
		if v.Name == name {
			return i
		}
	}
	return -1
}
