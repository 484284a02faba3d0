// Package text turns short documents (package descriptions, tickets, log messages) into the
// sparse feature vectors a topic classifier trains on and predicts with.
//
// The parts, all plain Go except DocumentFrequency:
//
//   - Spec: how text becomes terms and how terms are weighted. It is JSON-tagged and stored in
//     model artifacts so prediction featurises exactly as training did; Validate names the
//     bad field and the fix.
//   - Tokenizer: a one-pass Unicode word scanner with case folding, stop words, number
//     handling and word n-grams (see Tokenizer for the exact rules).
//   - Vocabulary: term → feature index with document frequencies, pruned by MinDF, MaxDF and
//     MaxFeatures (BuildVocabulary) and after feature selection (Keep).
//   - Vectorizer: Counts (raw term counts, for Naive Bayes) and TFIDF (scikit-learn's smooth
//     idf and L2 norm), over a vocabulary or, with HashBits, hashed buckets. Safe for
//     concurrent use and allocation-light: a call allocates only its result.
//   - Chi2, MutualInfo and SelectTop: scikit-learn's chi² feature scores and presence/label
//     mutual information, both multi-label aware, and top-k selection.
//   - DocumentFrequency: the Beam transform counting, over a corpus, the documents that
//     contain each term.
//
// Training, in outline:
//
//	df := text.DocumentFrequency(s, texts, spec)                // PCollection<KV<string,int>>
//	// ... collect df and the document count, then on the driver or in a side input:
//	vocab := text.BuildVocabulary(dfMap, docs, spec)
//	vec, _ := text.NewVectorizer(spec, vocab)
//	xs := make([]text.Vector, len(docs))                        // vec.Counts or vec.TFIDF
//	keep := text.SelectTop(text.Chi2(xs, labels, nLabels, vec.Dim()), 20000)
//	vocab = vocab.Keep(keep)                                    // store spec and vocab in the model
//
// Prediction needs only the stored Spec and Vocabulary: NewVectorizer(spec, vocab).TFIDF(doc).
package text
