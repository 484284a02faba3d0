package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/transforms/ratealarm"
)

// gapOrder is one valid order line created at createdAt (a JSON value: a quoted RFC 3339
// time or epoch seconds).
func gapOrder(i int, createdAt string) string {
	return fmt.Sprintf(`{"order_id":"O-%06d","created_at":%s,"customer":{"id":"C-1","email":"a@example.com"},"country":"de","currency":"eur","total":"20.00","payment":"card","items":[{"sku":"SKU-1","qty":2,"price":10.00}]}`, i, createdAt)
}

// TestReplayYearGapFinishes replays six orders, one of them a year older than the five
// others (issue 18: the job walked every empty minute of the year and never finished). The
// threshold detector (at least one order a minute) raises silence in the minute after the old
// order, the key sleeps through the gap, and the silence resolves after five minutes with
// orders a year later; the end of the file raises nothing. Both ways of writing the old
// created_at are tried: RFC 3339 and epoch seconds.
func TestReplayYearGapFinishes(t *testing.T) {
	now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	old := now.AddDate(-1, 0, 0).Add(30 * time.Second)
	for _, tc := range []struct {
		name, oldAt string
	}{
		{"rfc3339", `"` + old.Format(time.RFC3339) + `"`},
		{"epoch seconds", fmt.Sprint(old.Unix())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "orders.jsonl")
			lines := gapOrder(0, tc.oldAt) + "\n"
			for i := range 5 {
				lines += gapOrder(i+1, `"`+now.Add(time.Duration(i)*time.Minute+5*time.Second).Format(time.RFC3339)+`"`) + "\n"
			}
			if err := os.WriteFile(in, []byte(lines), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			oldDet, oldMin := *detectorFlag, *minFlag
			*inputFlag, *outputFlag, *dimsFlag, *detectorFlag, *minFlag = in, out, "", "threshold", 1
			defer func() { *inputFlag, *outputFlag, *detectorFlag, *minFlag = "", "", oldDet, oldMin }()
			if err := run(context.Background()); err != nil {
				t.Fatal(err)
			}
			history := 0
			for _, b := range readAll(t, filepath.Join(out, "history")) {
				history += bytes.Count(b, []byte("\n"))
			}
			if history != 6 {
				t.Errorf("history holds %d orders, want 6", history)
			}
			var got []string
			for _, b := range readAll(t, filepath.Join(out, "alerts")) {
				for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
					if len(line) == 0 {
						continue
					}
					var a ratealarm.Alert
					if err := json.Unmarshal(line, &a); err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%s %s %s observed %g", a.Key, a.Kind, a.WindowStart.UTC().Format(time.RFC3339), a.Observed))
				}
			}
			sort.Strings(got)
			want := []string{
				"all resolved " + now.Add(4*time.Minute).Format(time.RFC3339) + " observed 1",
				"all silence " + old.Truncate(time.Minute).Add(time.Minute).Format(time.RFC3339) + " observed 0",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}
