package text_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/beamline/beamline/transforms/features/text"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		name string
		spec text.Spec
		in   string
		want []string
	}{
		{"ascii folding and punctuation", text.Spec{}, "Hello, World! (GNU)", []string{"hello", "world", "gnu"}},
		{"empty", text.Spec{}, "", nil},
		{"punctuation only", text.Spec{}, "--- !!! ... ''", nil},
		{"accents", text.Spec{}, "Café Crème brûlée ÉCOLE", []string{"café", "crème", "brûlée", "école"}},
		{"decomposed accent keeps its mark", text.Spec{}, "cafe\u0301 bar", []string{"cafe\u0301", "bar"}},
		{"keep case", text.Spec{KeepCase: true}, "GNU Emacs", []string{"GNU", "Emacs"}},
		{"greek", text.Spec{}, "ΑΘΗΝΑ Οδός", []string{"αθηνα", "οδός"}},
		{"cyrillic", text.Spec{}, "Привет, мир", []string{"привет", "мир"}},
		{"devanagari with marks", text.Spec{}, "हिन्दी भाषा", []string{"हिन्दी", "भाषा"}},
		{"han ideographs one each", text.Spec{}, "中文输入法 tool", []string{"中", "文", "输", "入", "法", "tool"}},
		{"han next to latin", text.Spec{}, "Go语言 v2", []string{"go", "语", "言", "v2"}},
		{"inner apostrophes kept", text.Spec{}, "don't GNOME’s 'quoted' rock'n'roll dogs'", []string{"don't", "gnome's", "quoted", "rock'n'roll", "dogs"}},
		{"hyphens underscores slashes split", text.Spec{}, "command-line foo_bar TCP/IP", []string{"command", "line", "foo", "bar", "tcp", "ip"}},
		{"numbers keep", text.Spec{Numbers: "keep"}, "version 2.0 has 10,000 lines, mp3 x86 1.", []string{"version", "2.0", "has", "10,000", "lines", "mp3", "x86", "1"}},
		{"numbers drop", text.Spec{Numbers: "drop"}, "version 2.0 has 10,000 lines, mp3 x86 1.", []string{"version", "has", "lines", "mp3", "x86"}},
		{"numbers token", text.Spec{Numbers: "token"}, "version 2.0 has 10,000 lines, mp3 x86 1.", []string{"version", "<num>", "has", "<num>", "lines", "mp3", "x86", "<num>"}},
		{"non-ascii digits are numbers", text.Spec{Numbers: "token"}, "٣ apples", []string{"<num>", "apples"}},
		{"english stop words", text.Spec{StopWords: "english"}, "The GNU C library and the tools it's got", []string{"gnu", "c", "library", "tools", "got"}},
		{"stop words ignore case with keep case", text.Spec{StopWords: "english", KeepCase: true}, "The GNU tools", []string{"GNU", "tools"}},
		{"extra stop words", text.Spec{ExtraStop: []string{"Library", "PACKAGE"}}, "a library package for X", []string{"a", "for", "x"}},
		{"min len in runes", text.Spec{MinLen: 2}, "a C library for X11 é üb", []string{"library", "for", "x11", "üb"}},
		{"min len before num token", text.Spec{MinLen: 2, Numbers: "token"}, "3 apples 42", []string{"apples", "<num>"}},
		{"bigrams skip stop words", text.Spec{NGrams: 2, StopWords: "english"}, "The quick brown fox", []string{"quick", "brown", "fox", "quick brown", "brown fox"}},
		{"trigrams", text.Spec{NGrams: 3}, "a b-c d", []string{"a", "b", "c", "d", "a b", "b c", "c d", "a b c", "b c d"}},
		{"ngrams longer than text", text.Spec{NGrams: 3}, "solo", []string{"solo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := text.NewTokenizer(tc.spec)
			if err != nil {
				t.Fatalf("NewTokenizer(%+v): %v", tc.spec, err)
			}
			got := tok.Terms(tc.in, nil)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Terms(%q) (-want +got):\n%s", tc.in, diff)
			}
			// Reusing dst must give the same terms.
			again := tok.Terms(tc.in, []string{"stale", "stale", "stale"})
			if diff := cmp.Diff(tc.want, again, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Terms(%q, dst) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func FuzzTerms(f *testing.F) {
	for _, s := range []string{description, "don't 2.0 中文 ΑΘΗΝΑ", "'a' -b- 1,2,", "x\u0301y\xff"} {
		f.Add(s)
	}
	tok := text.MustTokenizer(text.Spec{NGrams: 2, StopWords: "english", Numbers: "token", MinLen: 2})
	f.Fuzz(func(t *testing.T, in string) {
		terms := tok.Terms(in, nil)
		uni := 0
		for _, term := range terms {
			if !strings.Contains(term, " ") {
				uni++
			}
		}
		for i, term := range terms {
			if term == "" || strings.HasPrefix(term, " ") || strings.HasSuffix(term, " ") || strings.Contains(term, "  ") {
				t.Fatalf("Terms(%q)[%d] = %q: empty or badly spaced", in, i, term)
			}
			if (i < uni) == strings.Contains(term, " ") {
				t.Fatalf("Terms(%q) = %q: unigrams must come first", in, terms)
			}
		}
		if want := uni + max(uni-1, 0); len(terms) != want {
			t.Fatalf("Terms(%q) gave %d terms from %d unigrams, want %d", in, len(terms), uni, want)
		}
	})
}

func TestSpecJSON(t *testing.T) {
	// Specs live in model artifacts: the JSON names are a format.
	s := text.Spec{NGrams: 2, KeepCase: true, StopWords: "english", ExtraStop: []string{"debian"}, Numbers: "token",
		MinLen: 2, HashBits: 0, MinDF: 2, MaxDF: 0.5, MaxFeatures: 1000, Sublinear: true}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ngrams":2,"keep_case":true,"stop_words":"english","extra_stop":["debian"],"numbers":"token","min_len":2,"min_df":2,"max_df":0.5,"max_features":1000,"sublinear":true}`
	if string(b) != want {
		t.Errorf("json.Marshal(Spec) = %s, want %s", b, want)
	}
	var back text.Spec
	if err := json.Unmarshal(b, &back); err != nil || !cmp.Equal(s, back) {
		t.Errorf("Spec JSON round trip = %+v, %v; want %+v", back, err, s)
	}
}

func TestTermsAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race: sync.Pool drops items at random")
	}
	tok := text.MustTokenizer(text.Spec{NGrams: 2, StopWords: "english", Numbers: "token"})
	dst := tok.Terms(description, nil)
	allocs := testing.AllocsPerRun(100, func() { dst = tok.Terms(description, dst) })
	if allocs > 1 {
		t.Errorf("Terms with a reused dst made %v allocations per call, want <= 1", allocs)
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		spec text.Spec
		want string // a substring naming the field
	}{
		{text.Spec{NGrams: -1}, "NGrams"},
		{text.Spec{NGrams: 9}, "NGrams"},
		{text.Spec{StopWords: "french"}, "StopWords"},
		{text.Spec{Numbers: "round"}, "Numbers"},
		{text.Spec{MinLen: -2}, "MinLen"},
		{text.Spec{HashBits: 40}, "HashBits"},
		{text.Spec{MinDF: -1}, "MinDF"},
		{text.Spec{MaxDF: 1.5}, "MaxDF"},
		{text.Spec{MaxFeatures: -3}, "MaxFeatures"},
		{text.Spec{HashBits: 18, MaxFeatures: 100}, "HashBits=0"},
		{text.Spec{ExtraStop: []string{"ok", " "}}, "ExtraStop[1]"},
	}
	for _, tc := range tests {
		err := tc.spec.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, text.ErrSpec) {
			t.Errorf("Validate(%+v) = %v, want an ErrSpec naming %q", tc.spec, err, tc.want)
		}
		if _, err := text.NewTokenizer(tc.spec); err == nil {
			t.Errorf("NewTokenizer(%+v) accepted an invalid spec", tc.spec)
		}
	}
	good := []text.Spec{{}, {NGrams: 2, StopWords: "english", Numbers: "token", MinLen: 2, MinDF: 2, MaxDF: 0.5, MaxFeatures: 1000, Sublinear: true}, {HashBits: 18, KeepCase: true}}
	for _, s := range good {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", s, err)
		}
	}
}

func TestEnglishStopWordsSorted(t *testing.T) {
	w := text.EnglishStopWords()
	for i := 1; i < len(w); i++ {
		if w[i-1] >= w[i] {
			t.Errorf("EnglishStopWords not sorted and unique at %q, %q", w[i-1], w[i])
		}
	}
	if len(w) < 100 {
		t.Errorf("EnglishStopWords has %d words, want at least 100", len(w))
	}
}

// referenceTerms is the word rules of Tokenizer written rune by rune with the unicode
// package, for unigrams: slow and plain, to check the byte-level scanner against.
func referenceTerms(spec text.Spec, in string) []string {
	stop := map[string]bool{}
	if spec.StopWords == "english" {
		for _, w := range text.EnglishStopWords() {
			stop[w] = true
		}
	}
	for _, w := range spec.ExtraStop {
		stop[strings.ToLower(strings.TrimSpace(w))] = true
	}
	// letterAt and numberAt look at the rune at in[i:], if any.
	letterAt := func(i int) bool {
		r, _ := utf8.DecodeRuneInString(in[i:])
		return i < len(in) && unicode.IsLetter(r)
	}
	numberAt := func(i int) bool {
		r, _ := utf8.DecodeRuneInString(in[i:])
		return i < len(in) && unicode.IsNumber(r)
	}
	var out []string
	var tok []rune
	open, digits, prevLetter := false, false, false
	begin := func() {
		if !open {
			open, tok, digits, prevLetter = true, tok[:0], true, false
		}
	}
	end := func() {
		if !open {
			return
		}
		open = false
		w := string(tok)
		switch {
		case digits && spec.Numbers == "drop", len(tok) < max(spec.MinLen, 1), stop[strings.ToLower(w)]:
			return
		case digits && spec.Numbers == "token":
			w = text.NumToken
		}
		out = append(out, w)
	}
	for i, r := range in {
		switch {
		case r == '\'' || r == '’':
			if open && prevLetter && letterAt(i+utf8.RuneLen(r)) {
				tok, digits, prevLetter = append(tok, '\''), false, false
			} else {
				end()
			}
		case (r == '.' || r == ',') && open && digits && numberAt(i+1):
			tok = append(tok, r)
		case unicode.Is(unicode.Han, r): // a token of its own
			end()
			begin()
			tok, digits = append(tok, r), false
			end()
		case unicode.IsLetter(r) || unicode.IsMark(r):
			begin()
			if !spec.KeepCase {
				r = unicode.ToLower(r)
			}
			tok, digits, prevLetter = append(tok, r), false, true
		case unicode.IsNumber(r):
			begin()
			tok, prevLetter = append(tok, r), false
		default:
			end()
		}
	}
	end()
	return out
}

// TestTermsMatchReference checks Terms, with its ASCII fast paths, against referenceTerms on
// random mixes of ASCII, other scripts, apostrophes, numbers and stop words.
func TestTermsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	specs := []text.Spec{
		{}, {KeepCase: true}, {StopWords: "english", Numbers: "token", MinLen: 2},
		{Numbers: "drop", ExtraStop: []string{"Library", "école", "2"}}, {StopWords: "english", KeepCase: true},
	}
	for _, spec := range specs {
		tok := text.MustTokenizer(spec)
		for range 5000 {
			in := randomText(r, r.IntN(30))
			if diff := cmp.Diff(referenceTerms(spec, in), tok.Terms(in, nil), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("spec %+v: Terms(%q) (-reference +Terms):\n%s", spec, in, diff)
			}
		}
	}
}
