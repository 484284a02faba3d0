package address

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/beamline/beamline/io/files"
)

// MinDuration is the shortest window, timeout or period a flag accepts: below a millisecond
// Beam's millisecond event time makes a window of zero length (a division by zero inside the
// SDK's windowing).
const MinDuration = time.Millisecond

// Duration checks a duration flag: at least min, or exactly 0 when zero is allowed (it then
// means "off", as --idle_stop=0 does).
func Duration(name string, d, min time.Duration, zeroAllowed bool) error {
	if zeroAllowed && d == 0 {
		return nil
	}
	if d < min {
		off := ""
		if zeroAllowed {
			off = ", or 0 to turn it off"
		}
		return fmt.Errorf("--%s=%s is too short: give at least %s (e.g. --%s=1m)%s", name, d, min, name, off)
	}
	return nil
}

// Matches fails when a batch input glob matches no file: a scheduled run over an empty day
// would otherwise end green having done nothing.
func Matches(ctx context.Context, name string, a Address) error {
	if !a.Kind.Files() {
		return nil
	}
	got, err := files.List(ctx, a.String())
	if err != nil {
		return fmt.Errorf("--%s=%s cannot be listed: %s", name, a, oneLine(err))
	}
	if len(got) == 0 {
		return fmt.Errorf("--%s=%s matches no file: check the path or glob (quote a glob so the shell does not expand it)", name, a)
	}
	return nil
}

// Reachable dials the Pub/Sub endpoint the client will use (PUBSUB_EMULATOR_HOST when set,
// else pubsub.googleapis.com:443) within timeout, so a wrong address fails at start rather
// than as pulls that time out for minutes.
func Reachable(ctx context.Context, name string, a Address, timeout time.Duration) error {
	if a.Scheme != "pubsub" {
		return nil
	}
	host, via := os.Getenv("PUBSUB_EMULATOR_HOST"), "PUBSUB_EMULATOR_HOST="
	if host == "" {
		host, via = "pubsub.googleapis.com:443", "the Pub/Sub endpoint "
	}
	if err := dial(ctx, host, timeout); err != nil {
		return fmt.Errorf("--%s=%s: cannot reach %s%s within %s (%s): start the emulator or fix the address", name, a, via, host, timeout, oneLine(err))
	}
	return nil
}

func dial(ctx context.Context, host string, timeout time.Duration) error {
	if _, _, err := net.SplitHostPort(host); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("timed out")
		}
		return err
	}
	return c.Close()
}

// Cause puts the root cause of a runner's error first, on one line, and keeps the whole
// error after it. Beam's errors nest ("… caused by: …") and a job's failure often ends a
// dump of the plan; the innermost cause is what a user must fix.
func Cause(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	root := msg
	if i := strings.LastIndex(msg, "caused by:"); i >= 0 {
		root = msg[i+len("caused by:"):]
	}
	root = strings.TrimSpace(root)
	first, _, _ := strings.Cut(root, "\n")
	first = strings.TrimSpace(first)
	if first == "" || first == strings.TrimSpace(msg) {
		return err
	}
	return &causeError{first: first, err: err}
}

type causeError struct {
	first string
	err   error
}

func (e *causeError) Error() string { return e.first + "\n\ndetails:\n" + e.err.Error() }
func (e *causeError) Unwrap() error { return e.err }
