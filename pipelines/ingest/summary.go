package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/beamline/beamline/transforms/record"
	"github.com/beamline/beamline/transforms/tag"
)

// SourceSummary counts one source's records: Read = OK + Dead + Duplicates when nothing was
// lost.
type SourceSummary struct {
	Source     string           `json:"source"`
	Read       int64            `json:"read"`
	OK         int64            `json:"ok"`
	Dead       int64            `json:"dead"`
	Duplicates int64            `json:"duplicates"`
	DeadBy     map[string]int64 `json:"dead_by_reason"`
	Balanced   bool             `json:"balanced"`
}

// Summary is the per-source summary of a run, read from its Beam counters.
type Summary struct {
	Sources []SourceSummary `json:"sources"`
}

// Summarize reads the beamline counters of a finished run for the named sources; counters
// of other names (IO steps count under their subscription or topic) are left out.
func Summarize(res metrics.QueryResults, sources []string) Summary {
	by := map[string]*SourceSummary{}
	get := func(name string) *SourceSummary {
		if by[name] == nil {
			by[name] = &SourceSummary{Source: name, DeadBy: map[string]int64{}}
		}
		return by[name]
	}
	for _, s := range sources {
		get(s)
	}
	for k, v := range record.SumCounters(res, "") {
		if by[k.Source] == nil {
			// Counters of IO steps named after a subscription or topic, not a source.
			continue
		}
		ss := get(k.Source)
		switch {
		case k.Stage == tag.Stage && k.Outcome == record.OutcomeRead:
			ss.Read += v
		case k.Outcome == record.OutcomeWritten: // the files sinks, or a Pub/Sub publish confirmed
			ss.OK += v
		case k.Outcome == record.OutcomeDead:
			ss.Dead += v
			ss.DeadBy[k.Reason] += v
		case k.Outcome == record.OutcomeDuplicate:
			ss.Duplicates += v
		}
	}
	var out Summary
	for _, ss := range by {
		ss.Balanced = ss.Read == ss.OK+ss.Dead+ss.Duplicates
		out.Sources = append(out.Sources, *ss)
	}
	sort.Slice(out.Sources, func(i, j int) bool { return out.Sources[i].Source < out.Sources[j].Source })
	return out
}

// Print writes the summary as a table.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "%-12s %9s %9s %9s %11s  %s\n", "source", "read", "ok", "dead", "duplicates", "balanced")
	var tr, to, td, tu int64
	for _, ss := range s.Sources {
		fmt.Fprintf(w, "%-12s %9d %9d %9d %11d  %v\n", ss.Source, ss.Read, ss.OK, ss.Dead, ss.Duplicates, ss.Balanced)
		tr, to, td, tu = tr+ss.Read, to+ss.OK, td+ss.Dead, tu+ss.Duplicates
	}
	fmt.Fprintf(w, "%-12s %9d %9d %9d %11d  %v\n", "total", tr, to, td, tu, tr == to+td+tu)
	for _, ss := range s.Sources {
		if len(ss.DeadBy) == 0 {
			continue
		}
		reasons := make([]string, 0, len(ss.DeadBy))
		for r := range ss.DeadBy {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s=%d", r, ss.DeadBy[r])
		}
		fmt.Fprintf(w, "dead in %s: %s\n", ss.Source, strings.Join(parts, " "))
	}
}
