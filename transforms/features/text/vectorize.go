package text

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// Vectorizer turns documents into sparse vectors over a Vocabulary's terms or, with
// Spec.HashBits, over 2^HashBits hash buckets. It is safe for concurrent use; per-call
// scratch memory is pooled, so a call allocates only the returned Vector (two slices).
type Vectorizer struct {
	tok   *Tokenizer
	index map[string]int32 // nil when hashing
	short *termTable       // index's terms of up to maxPacked bytes (and, if fast, stop words as −1); nil when hashing
	idf   []float32        // nil when hashing: every feature weighs 1
	fast  bool             // ids may take fastIDs
	numLo uint64           // NumToken, packed, for fastIDs
	numHi uint32
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
		z.fast = tok.n == 1 && tok.fold
		z.numLo, z.numHi = pack([]byte(NumToken))
		terms := make([]string, 0, len(tok.stop)+len(v.Terms))
		vals := make([]int32, 0, cap(terms))
		if z.fast {
			// Unigrams only: the stop words go in the same table, as -1, so that fastIDs
			// drops a stop word and finds a term with one lookup. No unigram that reaches
			// lookup is a stop word, so there they are never found. NumToken is the one term
			// looked up that is not a token as written, and stop words do not apply to it.
			for w := range tok.stop {
				if w != NumToken {
					terms, vals = append(terms, w), append(vals, -1)
				}
			}
		}
		// Terms in decreasing document frequency: the first inserted sit in their home
		// slots, so the common words are found at the first probe.
		byDF := make([]int32, len(v.Terms))
		for i := range byDF {
			byDF[i] = int32(i)
		}
		slices.SortStableFunc(byDF, func(a, b int32) int { return cmp.Compare(v.DF[b], v.DF[a]) })
		for _, i := range byDF {
			terms, vals = append(terms, v.Terms[i]), append(vals, i)
		}
		z.short = newTermTable(terms, vals)
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
func (z *Vectorizer) Counts(text string) Vector { return z.CountsInto(text, Vector{}) }

// CountsInto is Counts reusing dst's arrays for the result.
func (z *Vectorizer) CountsInto(text string, dst Vector) Vector {
	sc := z.tok.pool.Get().(*scratch)
	v, _, _ := z.count(text, sc, dst, false)
	z.tok.pool.Put(sc)
	return v
}

// TFIDF returns text's tf-idf vector: tf (or 1+ln tf with Sublinear) times idf, scaled to unit
// L2 norm, as scikit-learn's TfidfVectorizer(norm="l2", smooth_idf=True) does. A text with no
// known term gives the empty vector.
func (z *Vectorizer) TFIDF(text string) Vector { return z.TFIDFInto(text, Vector{}) }

// TFIDFInto is TFIDF reusing dst's arrays for the result, so that a caller vectorising one
// document after another need not allocate.
func (z *Vectorizer) TFIDFInto(text string, dst Vector) Vector {
	sc := z.tok.pool.Get().(*scratch)
	v, norm, weighed := z.count(text, sc, dst, true)
	z.tok.pool.Put(sc)
	if !weighed {
		for i, tf := range v.Val {
			w := weight(int(tf), z.sub, z.idfOf(v.Idx[i]))
			v.Val[i] = float32(w)
			norm += w * w
		}
	}
	if norm > 0 {
		inv := 1 / math.Sqrt(norm)
		for i, w := range v.Val {
			v.Val[i] = float32(float64(w) * inv)
		}
	}
	return v
}

// logTable[i] is 1+ln(i), for every count tally holds (a byte): most terms occur a few times
// in a short document, and math.Log was an eighth of TFIDF's time.
var logTable = func() (t [256]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = 1 + math.Log(float64(i))
	}
	return t
}()

// linTable[i] is float64(i): logTable's counterpart without Sublinear, for readBack.
var linTable = func() (t [256]float64) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// weight is the tf-idf weight of a feature occurring tf times, before normalisation: tf, or
// 1 + ln tf with sub (from logTable below 256), times idf, the feature's idf (1 when hashing).
func weight(tf int, sub bool, idf float32) float64 {
	w := float64(tf)
	if sub {
		if tf < len(logTable) {
			w = logTable[tf]
		} else {
			w = 1 + math.Log(w)
		}
	}
	return w * float64(idf)
}

// idfOf is feature j's idf: 1 without an idf table.
func (z *Vectorizer) idfOf(j int32) float32 {
	if z.idf == nil {
		return 1
	}
	return z.idf[j]
}

// maxTally is the largest vocabulary count tallies in a dense array of counts (see marks,
// 288 KiB in each pooled scratch, of which only the pages of the first Dim features are
// touched); larger ones sort the occurrences instead.
const maxTally = 1 << 18

// marks are tally's counts of a document's features: tally[j] is how often feature j
// occurs, seen has bit j set for each feature j counted, and seenWords bit w for each
// non-zero word w of seen. They are arrays of maxTally features, indexed by a feature masked
// to maxTally−1, so that the compiler sees every index in range and checks none.
type marks struct {
	tally     [maxTally]uint8
	seen      [maxTally / 64]uint64
	seenWords [maxTally / 64 / 64]uint64
}

// count returns the known terms of text and how often each occurs, in dst's arrays. With
// weigh, it may instead give each term its tf-idf weight (see weight) and return the sum of their
// squares, reporting whether it did.
func (z *Vectorizer) count(text string, sc *scratch, dst Vector, weigh bool) (Vector, float64, bool) {
	var ids []int32
	if z.fast {
		ids = z.fastIDs(text, sc)
	} else {
		z.tok.scan(text, sc)
		ids = z.lookup(sc, sc.ids[:0])
	}
	sc.ids = ids
	if z.index != nil && z.dim <= maxTally {
		if sc.marks == nil {
			sc.marks = new(marks)
		}
		if v, norm, ok := z.tally(ids, sc.marks, dst, weigh); ok {
			return v, norm, weigh
		}
	}
	sortIDs(ids)
	return runs(ids, dst), 0, false
}

// tally counts ids in m.tally, a byte per feature, and marks each feature seen in a bitmap
// of the features (m.seen, a bit per feature) and in a bitmap of that bitmap's words
// (m.seenWords, a bit per 64 features). Reading the marks back word by word, lowest first,
// gives the distinct features in increasing order without sorting them: a document has a
// few dozen terms, whose bits sit in a few dozen words, found through the summary's few
// words (dim/4096). Sorting them was a sixth of TFIDF's time. With weigh, each feature's
// value is its tf-idf weight rather than its count, and the sum of their squares is
// returned: the weighing is done as the counts are read. It gives up, leaving the marks
// zero, if a count would pass 255. Every id must be below the vocabulary's size.
func (z *Vectorizer) tally(ids []int32, m *marks, dst Vector, weigh bool) (Vector, float64, bool) {
	distinct, stop := m.mark(ids)
	if stop < len(ids) { // the 256th occurrence of ids[stop]: undo the marks so far
		for _, j := range ids[:stop] {
			u := uint32(j) & (maxTally - 1)
			m.tally[u], m.seen[u>>6], m.seenWords[u>>12] = 0, 0, 0
		}
		return Vector{}, 0, false
	}
	v := reuse(dst, distinct)
	idx, val := v.Idx[:distinct], v.Val[:distinct]
	table := &linTable
	if z.sub {
		table = &logTable
	}
	var norm float64
	switch {
	case !weigh:
		m.readBack(idx, val, z.summary(), &linTable, nil)
	case haveReadWeightsAsm && distinct > 0:
		var ok bool
		if norm, ok = readWeightsAsm(m, z.summary(), unsafe.SliceData(z.idf), z.dim, table, &idx[0], &val[0]); !ok {
			panic("text: a counted feature is past the vocabulary")
		}
	default:
		norm = m.readBack(idx, val, z.summary(), table, z.idf[:z.dim])
	}
	v.Idx, v.Val = idx, val
	return v, norm, true
}

// mark counts and marks ids, and returns how many distinct features it met and len(ids), or
// stops at the occurrence of a feature that would make its count 256 and returns its
// position. It is a function of its own, with the undoing out of it, so that its loop keeps
// everything in registers (inlined in tally, it spilled to the stack).
func (m *marks) mark(ids []int32) (distinct, stop int) {
	for n, j := range ids {
		u := uint32(j) & (maxTally - 1)
		c := m.tally[u] + 1
		if c == 0 {
			return distinct, n
		}
		m.tally[u] = c
		if c == 1 {
			distinct++
		}
		m.seen[u>>6] |= 1 << (u & 63)
		m.seenWords[u>>12] |= 1 << ((u >> 6) & 63)
	}
	return distinct, len(ids)
}

// summary is the number of m.seenWords a feature below Dim can mark.
func (z *Vectorizer) summary() int { return (z.dim + 64*64 - 1) / (64 * 64) }

// readBack reads the marks back, lowest feature first, leaving them zero: the features into
// idx, and into val each one's weight, table[count] × idf[j], or table[count] without idf;
// it returns the sum of the weights' squares. With linTable and no idf the weights are the
// counts; with idf, table is linTable or logTable (Sublinear), which is weight's
// arithmetic (and readWeightsAsm's). idx and val have room for every distinct feature;
// summary words of m.seenWords are read.
func (m *marks) readBack(idx []int32, val []float32, summary int, table *[256]float64, idf []float32) float64 {
	var norm float64
	k := 0
	for sw := range summary {
		s := m.seenWords[sw&(len(m.seenWords)-1)]
		for s != 0 {
			w := uint32(sw)<<6 | uint32(bits.TrailingZeros64(s))
			s &= s - 1
			x := m.seen[w&(maxTally/64-1)]
			m.seen[w&(maxTally/64-1)] = 0
			for x != 0 {
				j := (w<<6 | uint32(bits.TrailingZeros64(x))) & (maxTally - 1)
				x &= x - 1
				wt := table[m.tally[j]]
				if idf != nil {
					wt *= float64(idf[j])
				}
				idx[k], val[k] = int32(j), float32(wt)
				m.tally[j] = 0
				norm += wt * wt
				k++
			}
		}
		m.seenWords[sw&(len(m.seenWords)-1)] = 0
	}
	return norm
}

// lookup appends the feature indices of the known terms among sc's tokens (and their
// n-grams) to ids.
func (z *Vectorizer) lookup(sc *scratch, ids []int32) []int32 {
	if cap(sc.buf)-len(sc.buf) < 16 {
		sc.buf = slices.Grow(sc.buf, 16) // the slack pack reads into
	}
	buf, toks := sc.buf, sc.toks
	for g := 1; g <= z.tok.n; g++ {
		for i := 0; i+g <= len(toks); i++ {
			term := buf[toks[i].lo:toks[i+g-1].hi]
			switch {
			case z.index == nil:
				ids = append(ids, int32(hashBytes(term)&z.mask))
			case len(term) <= maxPacked:
				if j, ok := z.short.get(pack(term)); ok && j >= 0 {
					ids = append(ids, j)
				}
			default:
				if j, ok := z.index[string(term)]; ok { // no allocation for a map index
					ids = append(ids, j)
				}
			}
		}
	}
	return ids
}

// fastIDs returns the feature index of every known term occurrence in text, in document
// order, when the features are unigrams of folded case over a vocabulary (most models'), and
// mostly without laying the tokens out in a buffer first. asciiRun takes the plain ASCII
// tokens; any other token — non-ASCII, longer than 12 bytes, or running into an apostrophe,
// a number separator or a non-ASCII character — goes through the general scanner on its own,
// which is exact because without n-grams a token's terms do not depend on its neighbours.
//
// asciiRun's 8-byte loads need 16 bytes of text from a token's start: the last 16 bytes of
// the text are read from a copy followed by spaces (32 bytes on the stack). A space separates
// as the end of the text does, and is neither a letter nor a digit to look ahead to, so the
// tokens and where they end are as the general scanner finds them.
func (z *Vectorizer) fastIDs(text string, sc *scratch) []int32 {
	ids := sc.ids[:0]
	s := scanner{t: z.tok, buf: sc.buf[:0], toks: sc.toks[:0], low: sc.low}
	// The text's last 16 bytes (or all of it), then spaces, from text[base] on: made here,
	// out of the loop, so that it stays on the stack.
	var pad [32]byte
	base := max(len(text)-16, 0)
	for k := copy(pad[:], text[base:]); k < len(pad); k++ {
		pad[k] = ' '
	}
	// cur is text, then the padded copy of its tail; i and limit are positions in cur.
	// asciiRun starts no token at limit or after it.
	cur, i, limit, padded := text, 0, base, false
	asm := haveASCIIRunAsm && z.tok.numbers == numKeep
	for {
		var general bool
		if asm {
			ids = slices.Grow(ids, max(limit-i, 0)/2+2) // room for every token it can take
			var n int
			i, n, general = asciiRunAsm(unsafe.StringData(cur), i, limit, unsafe.SliceData(ids), len(ids),
				unsafe.SliceData(z.short.slots), uint64(len(z.short.slots)-1), uint64(z.short.shift), z.tok.minLen)
			ids = ids[:n]
		} else {
			i, ids, general = z.asciiRun(cur, i, limit, ids)
		}
		if !general {
			if padded || i >= len(text) {
				break
			}
			// Less than 16 bytes of text from i on: go on in the copy.
			cur, i, limit, padded = string(pad[:]), i-base, len(text)-base, true
			continue
		}
		s.buf, s.toks = s.buf[:0], s.toks[:0]
		i = s.run(cur, i, true)
		if s.in {
			s.end()
		}
		sc.buf, sc.toks = s.buf, s.toks
		ids = z.lookup(sc, ids)
		s.buf = sc.buf
	}
	sc.buf, sc.toks, sc.low = s.buf, s.toks, s.low
	return ids
}

// asciiRun appends to ids the feature index of each kept and known plain ASCII token of text
// from i on: a token of up to 12 ASCII letters and digits, ended by an ASCII byte that cannot
// extend it, read with one or two 8-byte loads (see classify8), folded in the register and
// looked up packed, as pack would pack it. It returns at the first token it cannot take, with
// general set and i at that token, or when i reaches limit. text must have 16 bytes from any
// position below limit.
//
// It is a function of its own, called once per run of such tokens, so that only the few
// values it needs are live in its loop: inlined into fastIDs with the general scanner's state
// around it, the loop kept its values on the stack (callgrind: 142 instructions per token).
func (z *Vectorizer) asciiRun(text string, i, limit int, ids []int32) (int, []int32, bool) {
	tab := z.short
	slots := tab.slots
	mask := uint64(len(slots) - 1)
	minLen, numbers := z.tok.minLen, z.tok.numbers
	for i < limit {
		c := text[i]
		f := asciiWord[c]
		if f == 0 {
			if c >= utf8.RuneSelf {
				return i, ids, true
			}
			i++ // outside a token, every other ASCII byte separates
			continue
		}
		x := load64(text[i:])
		word, letters, upper := classify8(x)
		n := bits.TrailingZeros64(^word&bytesHigh) / 8
		lo, hi := x, uint64(0)
		if n < 8 {
			// The mask on the shift tells the compiler it is below 64, so it does not
			// guard it; n ≥ 1, text[i] being a letter or digit.
			keep := uint64(1)<<(8*n&63) - 1
			lo, letters, upper = x&keep, letters&keep, upper&keep
		} else {
			x2 := load64(text[i+8:])
			word2, letters2, upper2 := classify8(x2)
			n2 := bits.TrailingZeros64(^word2&bytesHigh) / 8
			if n2 > maxPacked-8 {
				return i, ids, true
			}
			keep := uint64(1)<<(8*n2&63) - 1  // n2 ≤ 4
			hi = (x2 | upper2&keep>>2) & keep // fold: 0x80 >> 2 is 0x20
			letters |= letters2 & keep
			n += n2
		}
		lo |= upper >> 2
		// The token ends at text[end] unless that byte is non-ASCII, an apostrophe
		// between letters or a '.' or ',' between digits of a number: the general
		// scanner's rules.
		end := i + n
		switch c := text[end]; {
		case c >= utf8.RuneSelf:
			return i, ids, true
		case c == '\'':
			if asciiWord[text[end-1]]&wLetter != 0 && letterAt(text, end+1) {
				return i, ids, true
			}
		case c == '.' || c == ',':
			if letters == 0 && digitAt(text, end+1) {
				return i, ids, true
			}
		}
		// What scanner.end does, on the packed token: drop numbers, short tokens and
		// stop words, then replace numbers.
		digits := letters == 0
		i = end + 1 // text[end] separates, and is not part of the next token
		if digits && numbers == numDrop || n < minLen {
			continue
		}
		var j int32 // the feature, or −1 for a stop word or an unknown term
		if digits && numbers == numToken {
			if j, ok := tab.get(lo, uint32(hi)); ok && j < 0 { // a stop word
				continue
			}
			j = tab.getOr(z.numLo, z.numHi)
		} else {
			// getOr, with its first probe, which finds most terms, written out here.
			k := tab.hash(lo, uint32(hi)) & mask
			sl := &slots[k]
			j = sl.val
			if sl.lo != lo || sl.hi != uint32(hi) {
				j = tab.getOrProbe(k, lo, uint32(hi))
			}
		}
		// Append j unless it is −1 without a branch on it: j is written past the end,
		// and the length grows by its sign bit flipped. A third of the tokens are stop
		// words, in no order a predictor could learn; a mispredicted branch on the
		// lookup's result also made the processor wait for the lookup's load before
		// scanning on.
		if len(ids) == cap(ids) {
			ids = slices.Grow(ids, 1)
		}
		ids = ids[:len(ids)+1]
		ids[len(ids)-1] = j
		ids = ids[:len(ids)-1+int(uint32(^j)>>31)]
	}
	return i, ids, false
}

// sortIDs sorts ids in increasing order. A document has a few dozen term occurrences, for
// which insertion sort beats slices.Sort; longer lists go to slices.Sort.
func sortIDs(ids []int32) {
	if len(ids) > 64 {
		slices.Sort(ids)
		return
	}
	for i := 1; i < len(ids); i++ {
		x := ids[i]
		j := i
		for ; j > 0 && ids[j-1] > x; j-- {
			ids[j] = ids[j-1]
		}
		ids[j] = x
	}
}

// reuse returns an empty vector with room for n features in dst's arrays, or in new ones
// when those are too small.
func reuse(dst Vector, n int) Vector {
	v := Vector{Idx: dst.Idx[:0], Val: dst.Val[:0]}
	if cap(v.Idx) < n {
		v.Idx = make([]int32, 0, n)
	}
	if cap(v.Val) < n {
		v.Val = make([]float32, 0, n)
	}
	return v
}

// runs counts the runs of equal values in sorted ids into dst's arrays.
func runs(ids []int32, dst Vector) Vector {
	n := 0
	for i := range ids {
		if i == 0 || ids[i] != ids[i-1] {
			n++
		}
	}
	v := reuse(dst, n)
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
