//go:build amd64 && !purego

package text

// asciiRunAsm is Vectorizer.asciiRun for Numbers "keep", in asciirun_amd64.s: the same
// tokens, stop words and lookups, with every value of the loop in a register (the Go loop
// needs more values than amd64 has registers and keeps some on the stack). It appends to
// ids[nids:], which must have room for every token that can start before limit
// ((limit−i)/2 + 1), and returns the new i and length as asciiRun does. It gives up to the
// general scanner (general set, i at the token) in a few more cases than asciiRun: an
// apostrophe followed by any letter or non-ASCII byte, and a '.' or ',' after a number
// followed by any digit or non-ASCII byte. The general scanner is exact, so the terms are the
// same (TestCountsMatchTerms, FuzzCountsMatchTerms).
const haveASCIIRunAsm = true

//go:noescape
func asciiRunAsm(text *byte, i, limit int, ids *int32, nids int, slots *termSlot, mask, shift uint64, minLen int) (newI, newNids int, general bool)
