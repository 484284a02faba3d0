package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BigQueryEmulatorVersion is the goccy/bigquery-emulator release tools/bqemu/build.sh builds.
const BigQueryEmulatorVersion = "v0.6.6"

// BQ is a running goccy/bigquery-emulator with one project and one dataset, on loopback.
type BQ struct {
	Project string
	Dataset string
	// HTTP is the REST host:port; GRPC the Storage API host:port.
	HTTP string
	GRPC string

	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	once   sync.Once
}

// Endpoint is the REST endpoint URL, for option.WithEndpoint.
func (b *BQ) Endpoint() string { return "http://" + b.HTTP }

// RESTOptions are the client options of a bigquery.Client talking to the emulator.
func (b *BQ) RESTOptions() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(b.Endpoint()), option.WithoutAuthentication()}
}

// Query runs sql against the emulator and returns its rows; an error fails the test.
func (b *BQ) Query(t testing.TB, sql string) [][]bq.Value {
	t.Helper()
	ctx := context.Background()
	c, err := bq.NewClient(ctx, b.Project, b.RESTOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	it, err := c.Query(sql).Read(ctx)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var rows [][]bq.Value
	for {
		var row []bq.Value
		err := it.Next(&row)
		if err == iterator.Done {
			return rows
		}
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		rows = append(rows, row)
	}
}

// GRPCOptions are the client options of a managedwriter.Client talking to the emulator.
func (b *BQ) GRPCOptions() []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(b.GRPC), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

// Env sets BIGQUERY_EMULATOR_HOST and BIGQUERY_EMULATOR_GRPC_HOST to this emulator for the
// rest of the test, so transforms built without explicit endpoints use it.
func (b *BQ) Env(t testing.TB) {
	t.Setenv("BIGQUERY_EMULATOR_HOST", b.HTTP)
	t.Setenv("BIGQUERY_EMULATOR_GRPC_HOST", b.GRPC)
}

// Stop kills the emulator and waits for it; it is safe to call more than once.
func (b *BQ) Stop() {
	b.once.Do(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	})
}

// BigQueryEmulatorBin returns the path of the emulator binary: $BQ_EMULATOR_BIN, else
// bigquery-emulator-v0.6.6 in $BEAMLINE_CACHE or ~/.cache/beamline. It does not build it.
func BigQueryEmulatorBin() (string, error) {
	if p := os.Getenv("BQ_EMULATOR_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BQ_EMULATOR_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	cache := os.Getenv("BEAMLINE_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache", "beamline")
	}
	p := filepath.Join(cache, "bigquery-emulator-"+BigQueryEmulatorVersion)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the BigQuery emulator is not at %s: make test builds it (tools/setup.sh test runs tools/bqemu/build.sh: cold ~30-40 min, then cached) or set BQ_EMULATOR_BIN", p)
	}
	return p, nil
}

// BigQuery starts an emulator with a fresh project and dataset for this test and stops it
// when the test ends. A missing binary fails the test with the command that builds it.
func BigQuery(t testing.TB) *BQ {
	t.Helper()
	b, err := StartBigQuery()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}

// StartBigQuery starts an emulator with a fresh project and dataset and returns it; the
// caller stops it. It is for a TestMain or a benchmark that shares one instance, since
// starting one costs about a second.
func StartBigQuery() (*BQ, error) {
	bin, err := BigQueryEmulatorBin()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for try := 0; try < 3; try++ { // a freed port can be taken before the emulator binds it
		b, err := startBigQuery(bin)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startBigQuery(bin string) (*BQ, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	id := randomHex(4)
	b := &BQ{
		Project: "beamline-" + id, Dataset: "ds_" + id,
		HTTP:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		GRPC:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	b.cmd = exec.Command(bin, "--project="+b.Project, "--dataset="+b.Dataset, "--host=127.0.0.1",
		"--port="+strconv.Itoa(ports[0]), "--grpc-port="+strconv.Itoa(ports[1]), "--log-level=error")
	b.cmd.Stdout, b.cmd.Stderr = b.stderr, b.stderr
	b.cmd.Env = emulatorEnv()
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	if err := b.waitReady(30 * time.Second); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// waitReady polls the dataset listing until it answers and the gRPC port accepts connections.
func (b *BQ) waitReady(timeout time.Duration) error {
	url := fmt.Sprintf("%s/bigquery/v2/projects/%s/datasets", b.Endpoint(), b.Project)
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-b.done:
			return fmt.Errorf("the BigQuery emulator exited at start: %s", b.stderr.String())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if c, err := net.DialTimeout("tcp", b.GRPC, time.Second); err == nil {
					c.Close()
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the BigQuery emulator did not answer on %s within %v: %s", b.HTTP, timeout, b.stderr.String())
}

// emulatorEnv is this process's environment for the emulator. The emulator builds its GCS
// endpoint as STORAGE_EMULATOR_HOST + "/storage/v1/" (server/handler.go, importFromGCS), so a
// bare host:port, which the Go storage client and FakeGCS use, gets its http:// scheme here.
// Start the emulator after FakeGCS for load jobs from gs:// to reach it.
func emulatorEnv() []string {
	env := os.Environ()
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "STORAGE_EMULATOR_HOST="); ok && v != "" && !strings.Contains(v, "://") {
			env[i] = "STORAGE_EMULATOR_HOST=http://" + v
		}
	}
	return env
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer keeps the emulator's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buf.Len() > 64<<10 {
		return len(p), nil
	}
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
