// Package clean parses, validates, normalises, timestamps and dedupes records. Every step
// takes a PCollection<record.Record> and returns (ok, dead): ok holds the records that passed,
// dead a record.Failure for each one that did not — with the stage, a stable reason code, a
// message and the original payload. Nothing is dropped: for every step, in = ok + dead.
//
//	recs := tag.Records(s, src, raw)
//	parsed, dead1 := clean.Parse(s, recs, clean.ParseSpec{Format: "json"})
//	valid, dead2 := clean.Validate(s, parsed, []clean.Rule{{Field: "order_id", Required: true, Type: "string"}})
//	norm, dead3 := clean.Normalise(s, valid, clean.NormaliseSpec{Money: []clean.MoneyField{{Amount: "total", Currency: "currency"}}})
//	timed, dead4 := clean.EventTime(s, norm, "created_at", "rfc3339")
//	uniq, dups := clean.Dedupe(s, timed, "order_id")
//	dead := beam.Flatten(s, dead1, dead2, dead3, dead4, dups)
//
// Each step rests on a plain Go type (Parser, Validator, Normaliser, TimeChecker) that knows
// nothing of Beam and can be used and benchmarked on its own.
//
// Every step counts its outcomes in Beam counters named
// <source>/<stage>/<ok|dead|duplicate>[/<reason>] in namespace "beamline" (record.CounterName).
package clean
