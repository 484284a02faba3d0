package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core"
)

var (
	prismOnce sync.Once
	prismBin  string
	prismErr  error
)

// PrismJobServer builds Beam's prism command from the module cache once (cached under the
// user cache directory, keyed by SDK version) and starts it as a standalone job server on a
// free loopback port: it speaks the same Job API as Flink's job server.
func PrismJobServer(t testing.TB) string {
	t.Helper()
	prismOnce.Do(func() {
		if prismBin = os.Getenv("PRISM_BIN"); prismBin != "" {
			return
		}
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		prismBin = filepath.Join(dir, "beamline", "prism-"+core.SdkVersion)
		if _, err := os.Stat(prismBin); err == nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", prismBin, "github.com/apache/beam/sdks/v2/go/cmd/prism").CombinedOutput()
		if err != nil {
			prismErr = fmt.Errorf("building prism: %v\n%s", err, out)
		}
	})
	if prismErr != nil {
		t.Fatal(prismErr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(prismBin, fmt.Sprintf("--job_port=%d", port), "--serve_http=false", "--log_level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prism job server output:\n%s", logs.String())
		}
	})
	addr := fmt.Sprintf("localhost:%d", port)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("prism job server did not listen on %s within 60s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
