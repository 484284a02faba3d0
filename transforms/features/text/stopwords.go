package text

import (
	"slices"
	"strings"
)

// englishStop is a short list of English function words, written for package descriptions:
// it leaves out words such as "library", "tool" or "support", which carry topic signal here.
// Apostrophe forms are listed because the tokenizer keeps inner apostrophes ("don't").
const englishStop = `
a about above after again against all also am an and any are aren't as at
be because been before being below between both but by
can can't cannot could couldn't
did didn't do does doesn't doing don't down during
each either etc
few for from further
had hadn't has hasn't have haven't having he her here hers herself him himself his how
i if in into is isn't it it's its itself
just
let's
may me might more most must mustn't my myself
no nor not now
of off on once only or other ought our ours ourselves out over own
same shall she should shouldn't so some such
than that that's the their theirs them themselves then there there's these they this those through to too
under until up upon us
very via
was wasn't we were weren't what when where which while who whom whose why will with within without won't would wouldn't
yet you your yours yourself yourselves
`

// EnglishStopWords returns the built-in "english" stop list, sorted.
func EnglishStopWords() []string {
	w := strings.Fields(englishStop)
	slices.Sort(w)
	return slices.Compact(w)
}
