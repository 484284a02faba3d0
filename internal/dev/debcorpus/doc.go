// Package debcorpus builds a real labelled text corpus from the apt lists of a Debian machine:
// package descriptions labelled by their Section, for benchmarking topic classifiers against
// scikit-learn (bench/topics).
//
// Debian's Packages lists carry the short description and its Description-md5; the long
// text is in the Translation-en lists, which apt only fetches when told to
// (apt-get update -o Acquire::Languages=en). A Builder joins the two on
// (Package, Description-md5), keeps the first stanza of each package name (read the release
// before its -updates and -security suites, as FindLists orders them) and labels it with its
// Section less any "contrib/", "non-free/" or "non-free-firmware/" prefix.
//
// textclass.HeldOut is the train/test split shared with the Python side: FNV-1a 64-bit of the id,
// modulo 100, below the held-out percent.
//
//	b, _, err := debcorpus.Load("/var/lib/apt/lists")
//	if err != nil { ... } // errors.Is(err, debcorpus.ErrNoTranslations): run apt-get update -o Acquire::Languages=en
//	docs := b.Documents()
//	err = debcorpus.WriteNDJSON(w, docs)
//
// The command internal/dev/debcorpus/cmd/debcorpus writes the corpus as NDJSON and prints its
// counts; ReadNDJSON reads it back, and bench/topics/sklearn_topics.py runs the scikit-learn
// baselines on it with the same split.
package debcorpus
