package text

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Vectorizer turns documents into sparse vectors over a Vocabulary's terms or, with
// Spec.HashBits, over 2^HashBits hash buckets. It is safe for concurrent use; per-call
// scratch memory is pooled, so a call allocates only the returned Vector (two slices).
type Vectorizer struct {
	tok   *Tokenizer
	index map[string]int32 // nil when hashing
	idf   []float32        // nil when hashing: every feature weighs 1
	mask  uint32
	dim   int
	sub   bool
}

// NewVectorizer returns the Vectorizer for s and v. v must be nil exactly when s.HashBits > 0.
//
// With hashing there is no document-frequency table, so TFIDF uses idf = 1 for every bucket
// (it is then L2-normalised tf, or 1+ln tf with Sublinear).
func NewVectorizer(s Spec, v *Vocabulary) (*Vectorizer, error) {
	tok, err := NewTokenizer(s)
	if err != nil {
		return nil, err
	}
	z := &Vectorizer{tok: tok, sub: s.Sublinear}
	switch {
	case s.HashBits > 0 && v != nil:
		return nil, fmt.Errorf("%w: HashBits is %d and a vocabulary was given; pass a nil vocabulary or set HashBits=0", ErrSpec, s.HashBits)
	case s.HashBits > 0:
		z.dim, z.mask = 1<<s.HashBits, 1<<s.HashBits-1
	case v == nil:
		return nil, errors.New("text: NewVectorizer needs a vocabulary when HashBits is 0; build one with BuildVocabulary")
	default:
		v.build()
		if v.err != nil {
			return nil, v.err
		}
		z.index, z.idf, z.dim = v.index, v.IDF(), len(v.Terms)
	}
	return z, nil
}

// Dim is the number of features: the vocabulary size or 2^HashBits.
func (z *Vectorizer) Dim() int { return z.dim }

// IDF returns each feature's idf (see Vocabulary.IDF), or nil when hashing, meaning 1 for
// every feature. The slice is shared: do not modify it.
func (z *Vectorizer) IDF() []float32 { return z.idf }

// Tokenizer returns the Vectorizer's tokenizer.
func (z *Vectorizer) Tokenizer() *Tokenizer { return z.tok }

// Counts returns how many times each known term occurs in text, for Naive Bayes.
// Terms not in the vocabulary are skipped.
func (z *Vectorizer) Counts(text string) Vector {
	sc := z.tok.pool.Get().(*scratch)
	ids := z.ids(text, sc)
	v := runs(ids)
	z.tok.pool.Put(sc)
	return v
}

// TFIDF returns text's tf-idf vector: tf (or 1+ln tf with Sublinear) times idf, scaled to unit
// L2 norm, as scikit-learn's TfidfVectorizer(norm="l2", smooth_idf=True) does. A text with no
// known term gives the empty vector.
func (z *Vectorizer) TFIDF(text string) Vector {
	sc := z.tok.pool.Get().(*scratch)
	v := runs(z.ids(text, sc))
	z.tok.pool.Put(sc)
	var norm float64
	for i, tf := range v.Val {
		w := float64(tf)
		if z.sub {
			w = sublinear(tf)
		}
		if z.idf != nil {
			w *= float64(z.idf[v.Idx[i]])
		}
		v.Val[i] = float32(w)
		norm += w * w
	}
	if norm > 0 {
		inv := 1 / math.Sqrt(norm)
		for i, w := range v.Val {
			v.Val[i] = float32(float64(w) * inv)
		}
	}
	return v
}

// logTable[i] is 1+ln(i): most terms occur a few times in a short document, and math.Log
// was an eighth of TFIDF's time.
var logTable = func() (t [32]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = 1 + math.Log(float64(i))
	}
	return t
}()

func sublinear(tf float32) float64 {
	if i := int(tf); i < len(logTable) {
		return logTable[i]
	}
	return 1 + math.Log(float64(tf))
}

// ids returns the sorted feature index of every known term occurrence in text.
func (z *Vectorizer) ids(text string, sc *scratch) []int32 {
	z.tok.scan(text, sc)
	ids, buf, toks := sc.ids[:0], sc.buf, sc.toks
	for g := 1; g <= z.tok.n; g++ {
		for i := 0; i+g <= len(toks); i++ {
			term := buf[toks[i].lo:toks[i+g-1].hi]
			if z.index == nil {
				ids = append(ids, int32(hashBytes(term)&z.mask))
			} else if j, ok := z.index[string(term)]; ok { // no allocation for a map index
				ids = append(ids, j)
			}
		}
	}
	// Sorting a few dozen ids beats a map for counting and gives the increasing order
	// Vector needs.
	slices.Sort(ids)
	sc.ids = ids
	return ids
}

// runs counts the runs of equal values in sorted ids.
func runs(ids []int32) Vector {
	n := 0
	for i := range ids {
		if i == 0 || ids[i] != ids[i-1] {
			n++
		}
	}
	if n == 0 {
		return Vector{}
	}
	v := Vector{Idx: make([]int32, 0, n), Val: make([]float32, 0, n)}
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			v.Val[len(v.Val)-1]++
			continue
		}
		v.Idx = append(v.Idx, id)
		v.Val = append(v.Val, 1)
	}
	return v
}

// HashTerm returns the bucket of term with 2^bits buckets, as a hashing Vectorizer computes
// it: 32-bit FNV-1a of the term's UTF-8 bytes, mixed with MurmurHash3's finaliser so the low
// bits are well spread, then the low bits kept. This is part of the model format: never change it.
func HashTerm(term string, bits int) int32 {
	return int32(hashBytes([]byte(term)) & (1<<bits - 1))
}

func hashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
