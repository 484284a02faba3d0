package text

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Tokenizer splits text into terms as a Spec says. It is safe for concurrent use.
//
// Word rules (the same at training and prediction time, so they are part of a model):
//   - A token is a run of letters, combining marks and digits of any script (Unicode L, M, N).
//     Everything else separates tokens: spaces, punctuation, symbols, '_' and hyphens, so
//     "command-line" gives "command" and "line" (and the bigram "command line", the same
//     as when it is written with a space).
//   - An apostrophe (' or ’) between two letters stays inside the token and is written as ',
//     so "don't" and "GNOME’s" are one token each; any other apostrophe separates.
//   - A '.' or ',' between digits stays inside a token made only of digits so far, so version
//     and large numbers ("2.0", "1.2.3", "10,000") are single number tokens. A token mixing
//     letters and digits ("mp3", "x86", "ipv6") is a word, not a number.
//   - Each Han ideograph is a token of its own; scripts written without spaces (Thai, kana)
//     give one token per run.
//   - Unless KeepCase, tokens are lower-cased rune by rune with unicode.ToLower (what
//     strings.ToLower does). Text is not Unicode-normalised: give it NFC text.
//   - Stop words match case-insensitively, then MinLen applies, then Numbers (a "token" number
//     becomes "<num>"). N-grams are built from the surviving tokens, so they join across a
//     removed stop word, as scikit-learn's do.
//
// The scanner is written by hand rather than on a UAX #29 word segmenter (such as
// github.com/clipperhouse/uax29): UAX #29 keeps letters joined by '.' or ':' as one word
// ("e.g", "example.com"), hands back space and punctuation segments to filter, and neither
// folds case nor tells numbers from words, so each segment would need a second pass and a
// copy. One pass over the bytes, with an ASCII table for the common case, does all of it and
// lays the terms out in one reused buffer, with no dependency.
type Tokenizer struct {
	n       int
	minLen  int
	numbers uint8
	fold    bool
	stop    map[string]struct{}
	stopMin int // byte lengths of the shortest and longest stop word: most tokens skip the lookup
	stopMax int
	// stopSig has bit stopKey(w) set for each stop word w. A map lookup was a third of Terms'
	// time with stop words; this filter turns most non-stop tokens away for three loads.
	stopSig *[1 << 16 / 64]uint64
	// stopTab holds the stop words of up to maxPacked bytes: with case folding, a token
	// that passes stopSig is looked up there rather than in stop.
	stopTab *termTable
	pool    sync.Pool // *scratch
}

const (
	numKeep uint8 = iota
	numDrop
	numToken
)

// NumToken is the term every number becomes with Numbers: "token".
const NumToken = "<num>"

// span is a term's bytes in scratch.buf.
type span struct{ lo, hi int32 }

// scratch is per-call working memory, pooled so steady-state calls do not allocate it.
type scratch struct {
	buf  []byte  // kept tokens, in order, separated by one space: an n-gram is a contiguous span
	toks []span  // unigram spans in buf
	low  []byte  // lower-cased token for stop-word lookups with KeepCase
	ids  []int32 // feature indices (Vectorizer)
	// For the Vectorizer's counting, made on first use: the document's feature counts and
	// their bitmaps (see marks), all zero between calls.
	marks *marks
}

// NewTokenizer validates s and returns its Tokenizer.
func NewTokenizer(s Spec) (*Tokenizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t := &Tokenizer{n: s.ngrams(), minLen: s.minLen(), fold: !s.KeepCase}
	switch s.Numbers {
	case "drop":
		t.numbers = numDrop
	case "token":
		t.numbers = numToken
	}
	var words []string
	if s.StopWords == "english" {
		words = EnglishStopWords()
	}
	words = append(words, s.ExtraStop...)
	if len(words) > 0 {
		t.stop = make(map[string]struct{}, len(words))
		t.stopMin = math.MaxInt
		for _, w := range words {
			w = strings.ToLower(strings.TrimSpace(w))
			t.stop[w] = struct{}{}
			t.stopMin, t.stopMax = min(t.stopMin, len(w)), max(t.stopMax, len(w))
		}
		t.stopSig = new([1 << 16 / 64]uint64)
		short := make([]string, 0, len(t.stop))
		for w := range t.stop {
			if w != "" {
				k := stopKey([]byte(w))
				t.stopSig[k/64] |= 1 << (k % 64)
			}
			short = append(short, w)
		}
		t.stopTab = newTermTable(short, make([]int32, len(short)))
	}
	t.pool.New = func() any {
		return &scratch{buf: make([]byte, 0, 512), toks: make([]span, 0, 64), ids: make([]int32, 0, 128)}
	}
	return t, nil
}

// MustTokenizer is NewTokenizer that panics on an invalid Spec, for pipeline construction.
func MustTokenizer(s Spec) *Tokenizer {
	t, err := NewTokenizer(s)
	if err != nil {
		panic(fmt.Sprintf("text.MustTokenizer: %v", err))
	}
	return t
}

// Terms appends text's terms to dst[:0] and returns it: all unigrams in document order, then
// all bigrams in document order, and so on up to NGrams, words of an n-gram joined by one
// space. The terms share one newly allocated string; pass the previous result as dst to
// reuse its backing array.
func (t *Tokenizer) Terms(text string, dst []string) []string {
	dst = dst[:0]
	sc := t.pool.Get().(*scratch)
	t.scan(text, sc)
	if len(sc.toks) > 0 {
		s := string(sc.buf) // the only allocation besides growing dst: every term is a substring
		for g := 1; g <= t.n; g++ {
			for i := 0; i+g <= len(sc.toks); i++ {
				dst = append(dst, s[sc.toks[i].lo:sc.toks[i+g-1].hi])
			}
		}
	}
	t.pool.Put(sc)
	return dst
}

// ascii classes
const (
	cSep uint8 = iota
	cLower
	cUpper
	cDigit
	cApos
	cNumSep
)

var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		c[b] = cLower
	}
	for b := 'A'; b <= 'Z'; b++ {
		c[b] = cUpper
	}
	for b := '0'; b <= '9'; b++ {
		c[b] = cDigit
	}
	c['\''] = cApos
	c['.'], c[','] = cNumSep, cNumSep
	return c
}()

// scanner is the state of one scan. Its buffers come from a scratch and go back to it; they
// are held here rather than behind the scratch pointer so the hot loop works on locals.
type scanner struct {
	t          *Tokenizer
	buf        []byte
	toks       []span
	low        []byte
	in         bool // inside a token
	sepAt      int  // len(buf) before this token's separator: where a dropped token truncates to
	start      int  // this token's first byte in buf
	runes      int
	digits     bool // only digits (and inner '.' ',') so far
	prevLetter bool // last rune was a letter or mark: an apostrophe may follow
}

// scan lays out text's kept tokens in sc.buf and their spans in sc.toks.
func (t *Tokenizer) scan(text string, sc *scratch) {
	s := scanner{t: t, buf: sc.buf[:0], toks: sc.toks[:0], low: sc.low}
	s.run(text, 0, false)
	if s.in {
		s.end()
	}
	sc.buf, sc.toks, sc.low = s.buf, s.toks, s.low
}

// run scans text from i, which must not be inside a token, and returns where it stopped: at
// the end of text or, with one, as soon as it is outside a token again after its first step
// (the Vectorizer's fast path hands it single tokens). A token still open at the end of text
// is left open.
func (s *scanner) run(text string, i int, one bool) int {
	for start := i; i < len(text); {
		if one && !s.in && i > start {
			return i
		}
		c := text[i]
		if c < utf8.RuneSelf {
			switch asciiClass[c] {
			case cLower, cUpper, cDigit:
				if !s.in {
					s.begin()
				}
				i = s.asciiRun(text, i)
				continue
			case cApos:
				s.apostrophe(text, i+1)
			case cNumSep:
				if s.in && s.digits && digitAt(text, i+1) {
					s.buf = append(s.buf, c)
					s.runes++
				} else if s.in {
					s.end()
				}
			default:
				if s.in {
					s.end()
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '’':
			s.apostrophe(text, i)
		case unicode.Is(unicode.Han, r):
			if s.in {
				s.end()
			}
			s.begin()
			s.buf = utf8.AppendRune(s.buf, r)
			s.runes, s.digits = 1, false
			s.end()
		case unicode.IsLetter(r) || unicode.IsMark(r):
			if !s.in {
				s.begin()
			}
			if s.t.fold {
				r = unicode.ToLower(r)
			}
			s.buf = utf8.AppendRune(s.buf, r)
			s.runes++
			s.digits, s.prevLetter = false, true
		case unicode.IsNumber(r):
			if !s.in {
				s.begin()
			}
			s.buf = utf8.AppendRune(s.buf, r)
			s.runes++
			s.prevLetter = false
		default:
			if s.in {
				s.end()
			}
		}
	}
	return i
}

// Flags of ASCII bytes inside a word, for asciiRun; every other byte, including each byte
// of a multi-byte UTF-8 sequence, has none.
const (
	wLetter uint8 = 1
	wDigit  uint8 = 2
	wUpper  uint8 = 'a' - 'A' // 0x20: OR-ing b with asciiWord[b]&wUpper lower-cases b
)

var asciiWord = func() (w [256]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		w[b] = wLetter
	}
	for b := 'A'; b <= 'Z'; b++ {
		w[b] = wLetter | wUpper
	}
	for b := '0'; b <= '9'; b++ {
		w[b] = wDigit
	}
	return w
}()

// asciiRun appends the run of ASCII letters and digits starting at text[i], folded, and
// returns where it stops. Most of a description is such runs, so this is the hot loop. It
// takes the text eight bytes at a time (SWAR: SIMD within a register): class masks for the
// eight bytes, the run's length in them from the first byte outside it, and the folded bytes
// appended with one store. Words are mostly shorter than eight bytes, so a run usually takes
// one step, without the branch mispredicted at the end of a byte-at-a-time loop.
func (s *scanner) asciiRun(text string, i int) int {
	buf, fold := s.buf, s.t.fold
	var letters uint64
	j := i
	for len(text)-j >= 8 {
		x := load64(text[j:])
		word, letter, upper := classify8(x)
		n := bits.TrailingZeros64(^word&bytesHigh) / 8 // bytes of x in the run
		keep := ^uint64(0) >> (64 - 8*n)               // 0 when n is 0
		letters |= letter & keep
		if fold {
			x |= upper & keep >> 2 // 0x80 >> 2 is 0x20, which turns 'A'–'Z' into 'a'–'z'
		}
		buf = binary.LittleEndian.AppendUint64(buf, x)[:len(buf)+n]
		j += n
		if n < 8 {
			break
		}
	}
	if len(text)-j < 8 { // the last few bytes of the text: one at a time
		for ; j < len(text); j++ {
			c := text[j]
			f := asciiWord[c]
			if f == 0 {
				break
			}
			letters |= uint64(f & wLetter)
			if fold {
				c |= f & wUpper
			}
			buf = append(buf, c)
		}
	}
	s.buf = buf
	s.runes += j - i
	if letters != 0 {
		s.digits = false
	}
	s.prevLetter = asciiWord[text[j-1]]&wLetter != 0
	return j
}

// Byte masks for classify8.
const (
	bytesOne  = 0x0101010101010101
	bytesHigh = 0x80 * bytesOne
)

// classify8 returns masks with bit 7 of each byte of x set where that byte is an ASCII
// letter or digit (word), a letter, or a capital letter.
//
// For a byte b below 0x80, bit 7 of b+0x80−lo says b ≥ lo, and no byte's sum carries into
// the next one, so (t+(0x80−lo)) &^ (t+(0x80−hi−1)) flags the bytes in [lo, hi]. Bytes of
// 0x80 and up are masked out by ascii. OR-ing 0x20 folds case, and no other byte lands in
// 'a'–'z'; a letter is a capital when that bit (bit 5, shifted to bit 7) is clear.
func classify8(x uint64) (word, letter, upper uint64) {
	ascii := ^x & bytesHigh
	t := x &^ bytesHigh
	u := t | 0x20*bytesOne
	letter = (u + (0x80-'a')*bytesOne) &^ (u + (0x80-'z'-1)*bytesOne) & ascii
	digit := (t + (0x80-'0')*bytesOne) &^ (t + (0x80-'9'-1)*bytesOne) & ascii
	return letter | digit, letter, letter &^ (x << 2)
}

// load64 reads s[0:8] little endian (the compiler makes it a single load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// apostrophe handles ' or ’ whose next byte is text[next].
func (s *scanner) apostrophe(text string, next int) {
	if s.in && s.prevLetter && letterAt(text, next) {
		s.buf = append(s.buf, '\'')
		s.runes++
		s.digits, s.prevLetter = false, false
	} else if s.in {
		s.end()
	}
}

func (s *scanner) begin() {
	s.sepAt = len(s.buf)
	if len(s.toks) > 0 {
		s.buf = append(s.buf, ' ')
	}
	s.start = len(s.buf)
	s.in, s.runes, s.digits, s.prevLetter = true, 0, true, false
}

func (s *scanner) end() {
	s.in = false
	t := s.t
	if s.digits && t.numbers == numDrop || s.runes < t.minLen || t.stop != nil && t.isStop(s.buf[s.start:], &s.low) {
		s.buf = s.buf[:s.sepAt]
		return
	}
	if s.digits && t.numbers == numToken {
		s.buf = append(s.buf[:s.start], NumToken...)
	}
	s.toks = append(s.toks, span{int32(s.start), int32(len(s.buf))})
}

func (t *Tokenizer) isStop(tok []byte, low *[]byte) bool {
	if t.fold {
		if len(tok) < t.stopMin || len(tok) > t.stopMax {
			return false
		}
		if k := stopKey(tok); t.stopSig[k/64]&(1<<(k%64)) == 0 {
			return false
		}
		if len(tok) <= maxPacked {
			_, ok := t.stopTab.get(pack(tok))
			return ok
		}
		_, ok := t.stop[string(tok)] // no allocation: the compiler does not copy for a map index
		return ok
	}
	l := (*low)[:0]
	for i := 0; i < len(tok); {
		if c := tok[i]; c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			l = append(l, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(tok[i:])
		l = utf8.AppendRune(l, unicode.ToLower(r))
		i += n
	}
	*low = l
	_, ok := t.stop[string(l)]
	return ok
}

// stopKey is a 16-bit signature of a non-empty lower-cased word: its length and first and
// last bytes.
func stopKey(w []byte) uint32 {
	return (uint32(len(w))*31 + uint32(w[0])*131 + uint32(w[len(w)-1])) & (1<<16 - 1)
}

func letterAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	if c := text[i]; c < utf8.RuneSelf {
		cl := asciiClass[c]
		return cl == cLower || cl == cUpper
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLetter(r)
}

func digitAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	if c := text[i]; c < utf8.RuneSelf {
		return asciiClass[c] == cDigit
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsNumber(r)
}
