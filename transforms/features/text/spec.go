package text

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Spec configures tokenisation and weighting. It is stored inside model artifacts, so a model
// turns a document into features exactly as it did when it was trained; the zero value is
// usable (lower-cased unigrams, no stop words, numbers kept, a vocabulary, raw tf).
type Spec struct {
	// NGrams is the largest word n-gram: terms are all n-grams for n in 1..NGrams. 0 means 1.
	NGrams int `json:"ngrams"`
	// KeepCase turns off Unicode lower-casing of tokens.
	KeepCase bool `json:"keep_case,omitempty"`
	// StopWords names a built-in stop list: "" for none, "english" for EnglishStopWords.
	StopWords string `json:"stop_words,omitempty"`
	// ExtraStop adds stop words; like the built-in list they match case-insensitively.
	ExtraStop []string `json:"extra_stop,omitempty"`
	// Numbers says what happens to number tokens (digits only, with inner '.' or ','
	// between digits, e.g. "2", "1.0.3", "10,000"): "" or "keep" keeps them, "drop" drops
	// them, "token" replaces each with the single term "<num>".
	Numbers string `json:"numbers,omitempty"`
	// MinLen drops tokens shorter than MinLen runes (0 means 1). It is applied after stop
	// words, to the token as written (a number is measured before "<num>" replaces it).
	MinLen int `json:"min_len,omitempty"`
	// HashBits > 0 maps terms into 2^HashBits buckets with the unsigned FNV-1a hash instead
	// of a vocabulary. Unsigned: colliding terms add up, so counts stay non-negative as
	// Naive Bayes and Chi2 need.
	HashBits int `json:"hash_bits,omitempty"`
	// MinDF drops terms found in fewer than MinDF documents (0 means 1).
	MinDF int `json:"min_df,omitempty"`
	// MaxDF drops terms found in more than MaxDF×docs documents; a fraction in (0, 1], 0 means 1.
	MaxDF float64 `json:"max_df,omitempty"`
	// MaxFeatures keeps only the MaxFeatures terms with the highest document frequency
	// (ties broken by term); 0 keeps all.
	MaxFeatures int `json:"max_features,omitempty"`
	// Sublinear replaces tf with 1+ln(tf) in TFIDF.
	Sublinear bool `json:"sublinear,omitempty"`
}

// Limits on Spec fields.
const (
	MaxNGrams   = 5
	MaxHashBits = 30
)

// ErrSpec is wrapped by every error Validate returns.
var ErrSpec = errors.New("text: invalid spec")

// Validate reports the first field that is out of range, naming the field and the fix.
func (s Spec) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSpec, fmt.Sprintf(format, a...))
	}
	switch {
	case s.NGrams < 0 || s.NGrams > MaxNGrams:
		return bad("NGrams is %d; use 0..%d (0 and 1 both mean unigrams only)", s.NGrams, MaxNGrams)
	case s.StopWords != "" && s.StopWords != "english":
		return bad(`StopWords is %q; use "" (none) or "english"`, s.StopWords)
	case s.Numbers != "" && s.Numbers != "keep" && s.Numbers != "drop" && s.Numbers != "token":
		return bad(`Numbers is %q; use "", "keep", "drop" or "token"`, s.Numbers)
	case s.MinLen < 0:
		return bad("MinLen is %d; use 0 or more (0 means 1)", s.MinLen)
	case s.HashBits < 0 || s.HashBits > MaxHashBits:
		return bad("HashBits is %d; use 0 (vocabulary) or 1..%d (e.g. 18)", s.HashBits, MaxHashBits)
	case s.MinDF < 0:
		return bad("MinDF is %d; use 0 or more (0 means 1)", s.MinDF)
	case s.MaxDF < 0 || s.MaxDF > 1 || math.IsNaN(s.MaxDF):
		return bad("MaxDF is %v; use a fraction of documents in (0, 1], or 0 for no limit", s.MaxDF)
	case s.MaxFeatures < 0:
		return bad("MaxFeatures is %d; use 0 (keep all) or a positive count", s.MaxFeatures)
	case s.HashBits > 0 && (s.MinDF > 1 || (s.MaxDF > 0 && s.MaxDF < 1) || s.MaxFeatures > 0):
		return bad("MinDF, MaxDF and MaxFeatures prune a vocabulary and do nothing with HashBits=%d; set HashBits=0 or clear them", s.HashBits)
	}
	for i, w := range s.ExtraStop {
		if strings.TrimSpace(w) == "" {
			return bad("ExtraStop[%d] is blank; remove it", i)
		}
	}
	return nil
}

func (s Spec) ngrams() int {
	if s.NGrams < 1 {
		return 1
	}
	return s.NGrams
}

func (s Spec) minLen() int {
	if s.MinLen < 1 {
		return 1
	}
	return s.MinLen
}
