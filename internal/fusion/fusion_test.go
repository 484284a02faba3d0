package fusion_test

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/beamline/beamline/internal/fusion"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function2x0(stampFn)
	register.Function2x1(showFn)
	register.Function3x1(showKVFn)
	register.Function3x0(signalFn)
	register.Function1x1(sawSignalFn)
	register.Function1x2(keyFn)
	register.Function3x1(showKVIntFn)
	register.Function1x1(nameFn)
}

var base = mtime.FromTime(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))

// stampFn gives element i the timestamp base + i minutes.
func stampFn(i int, emit func(beam.EventTime, int)) {
	emit(base+mtime.Time(i)*60_000, i)
}

func showFn(ts beam.EventTime, i int) string {
	return fmt.Sprintf("%d@%s", i, ts.ToTime().UTC().Format("15:04"))
}

func showKVFn(ts beam.EventTime, k string, i int) string {
	return fmt.Sprintf("%s=%d@%s", k, i, ts.ToTime().UTC().Format("15:04"))
}

func nameFn(int) string { return "n" }

// showKVIntFn shows a count per window: element=count@window's last minute.
func showKVIntFn(ts beam.EventTime, k string, n int) string {
	return fmt.Sprintf("%s=%d@%s", k, n, ts.ToTime().UTC().Format("15:04"))
}

func keyFn(i int) (string, int) { return fmt.Sprint("k", i), i }

func TestBreakKeepsElementsAndTimestamps(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	stamped := beam.ParDo(s, stampFn, beam.CreateList(s, []int{0, 1, 2, 3}))
	passert.Equals(s, beam.ParDo(s, showFn, fusion.Break(s, stamped)), "0@08:00", "1@08:01", "2@08:02", "3@08:03")
	kv := beam.ParDo(s, keyFn, stamped)
	passert.Equals(s, beam.ParDo(s, showKVFn, fusion.Break(s, kv)), "k0=0@08:00", "k1=1@08:01", "k2=2@08:02", "k3=3@08:03")
	// An empty input stays empty.
	passert.Empty(s, fusion.Break(s, beam.CreateList(s, []string{})))
	// Windowed input keeps its windows.
	windowed := beam.WindowInto(s, window.NewFixedWindows(2*time.Minute), stamped)
	counts := stats.Count(s, beam.ParDo(s, nameFn, fusion.Break(s, windowed)))
	shown := beam.WindowInto(s, window.NewGlobalWindows(), beam.ParDo(s, showKVIntFn, counts))
	passert.Equals(s, shown, "n=2@08:01", "n=2@08:03")
	// Slices are elements like any other.
	passert.Equals(s, fusion.Break(s, beam.CreateList(s, [][]byte{[]byte("a")})), []byte("a"))
	ptest.RunAndValidate(t, p)
}

// signalled is set by signalFn, in this process since prism runs the pipeline in it.
var signalled atomic.Bool

// signalFn takes its time, then sets signalled and emits the signal.
func signalFn(_ string, _ func(*int) bool, emit func(string)) {
	time.Sleep(300 * time.Millisecond)
	signalled.Store(true)
	emit("ready")
}

func sawSignalFn(int) bool { return signalled.Load() }

func TestAfterWaitsForTheSignal(t *testing.T) {
	signalled.Store(false)
	p, s := beam.NewPipelineWithRoot()
	// The signal comes out of a stage of its own, after a GroupByKey, so that the rest can run
	// before it when nothing makes it wait.
	signal := beam.ParDo(s, signalFn, beam.GroupByKey(s, beam.ParDo(s, keyFn, beam.CreateList(s, []int{7}))))
	stamped := beam.ParDo(s, stampFn, beam.CreateList(s, []int{0, 1, 2}))
	after := fusion.After(s, signal, stamped)
	// Every element is processed after the signal was produced, and keeps its timestamp.
	passert.Equals(s, beam.ParDo(s, sawSignalFn, after), true, true, true)
	passert.Equals(s, beam.ParDo(s, showFn, after), "0@08:00", "1@08:01", "2@08:02")
	ptest.RunAndValidate(t, p)
}

func TestAfterKV(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	signal := beam.CreateList(s, []string{"ready"})
	kv := beam.ParDo(s, keyFn, beam.ParDo(s, stampFn, beam.CreateList(s, []int{0, 1, 2})))
	passert.Equals(s, beam.ParDo(s, showKVFn, fusion.After(s, signal, kv)), "k0=0@08:00", "k1=1@08:01", "k2=2@08:02")
	ptest.RunAndValidate(t, p)
}

// busyFn keeps one core busy for 300 ms, then passes x on: a stand-in for work in a stage.
func busyFn(x int, _ func(*string) bool, emit func(int)) {
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	emit(x)
}

func busyPlainFn(x int, emit func(int)) { busyFn(x, nil, emit) }

func init() {
	register.Function3x0(busyFn)
	register.Function2x0(busyPlainFn)
}

// BenchmarkSideInputStage runs three elements of busy work (300 ms of one core each) that
// must wait for a signal, read in the busy stage itself ("side-input") or through After, and
// reports the process's CPU time per second of wall time: about 2 when prism's scheduler
// spins beside the work, about 1 when it waits.
//
//	go test -run='^$' -bench=SideInputStage -benchtime=3x ./internal/fusion/
func BenchmarkSideInputStage(b *testing.B) {
	for _, mode := range []string{"side-input", "After"} {
		b.Run(mode, func(b *testing.B) {
			var cpu, wall time.Duration
			for b.Loop() {
				p, s := beam.NewPipelineWithRoot()
				signal := beam.CreateList(s, []string{"ready"})
				// Timestamped work from a stage before: that stage done, the busy one's
				// input watermark stays at the work's timestamps while it runs.
				work := fusion.Break(s, beam.ParDo(s, stampFn, beam.CreateList(s, []int{1, 2, 3})))
				var out beam.PCollection
				if mode == "After" {
					out = beam.ParDo(s, busyPlainFn, fusion.After(s, signal, work))
				} else {
					out = beam.ParDo(s, busyFn, work, beam.SideInput{Input: signal})
				}
				passert.Count(s, out, "out", 3)
				c0, w0 := processCPU(b), time.Now()
				if _, err := ptest.RunWithMetrics(p); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU(b) - c0
				wall += time.Since(w0)
			}
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu/wall")
		})
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
