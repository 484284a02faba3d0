// Package testenv starts the real stand-ins Beamline's tests run against, on loopback.
package testenv

import (
	"net/url"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// FakeGCS starts fake-gcs-server in process on a loopback port with the given buckets and
// points STORAGE_EMULATOR_HOST at it for the rest of the test, so the storage client and
// Beam's gs:// filesystem use it. Its objects are reachable through the returned server.
func FakeGCS(t testing.TB, buckets ...string) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatalf("starting fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("STORAGE_EMULATOR_HOST", u.Host)
	return srv
}
