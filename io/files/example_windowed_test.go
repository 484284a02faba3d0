package files_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/beamline/beamline/io/files"
)

func init() { register.Function1x3(stampEvent) }

// stampEvent turns "RFC3339 time|source|payload" into KV<source, payload> at that event time.
func stampEvent(ev string) (beam.EventTime, string, string) {
	ts, rest, _ := strings.Cut(ev, "|")
	t, _ := time.Parse(time.RFC3339, ts)
	src, payload, _ := strings.Cut(rest, "|")
	return mtime.FromTime(t), src, payload
}

func ExampleWriteWindowed() {
	dir, _ := os.MkdirTemp("", "lake")
	defer os.RemoveAll(dir)

	p, s := beam.NewPipelineWithRoot()
	evs := beam.ParDo(s, stampEvent, beam.Create(s,
		`2026-11-22T10:05:00Z|web|{"n":1}`,
		`2026-11-22T10:40:00Z|web|{"n":2}`,
		`2026-11-22T11:20:00Z|app|{"n":3}`))
	hourly := beam.WindowInto(s, window.NewFixedWindows(time.Hour), evs)
	files.WriteWindowed(s, dir+"/raw/source={key}/dt={date}/hour={hour}/", hourly, files.Suffix(".jsonl.gz"))
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}

	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	fmt.Println(strings.Join(names, "\n"))
	// Output:
	// raw/source=app/dt=2026-11-22/hour=11/part-20261122T1100Z-20261122T1200Z-0-00000-of-00001.jsonl.gz
	// raw/source=web/dt=2026-11-22/hour=10/part-20261122T1000Z-20261122T1100Z-0-00000-of-00001.jsonl.gz
}
