package dom0

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLttd writes a shell script standing in for lttd-xen and returns its path. It sees the
// arguments dom0 gives the real one (--output DIR --run-dir DIR --ready-fd 3).
func fakeLttd(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lttd-xen")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A consumer that says "ready" is running when startConsumer returns; stop asks it to end
// (SIGTERM) and reaps it; its last stdout line is the summary.
func TestConsumerReadyThenStop(t *testing.T) {
	lttd := fakeLttd(t, `[ "$1 $3 $5 $6" = "--output --run-dir --ready-fd 3" ] || { echo "lttd-xen: bad arguments: $*" >&2; exit 2; }
trap 'echo "lttd-xen: 3 packets, 12KiB written to $2; 0 events lost"; exit 0' TERM
echo ready >&3
exec 3>&-
while :; do sleep 1; done`)
	c, err := startConsumer(lttd, "/run/x", "/srv/trace", nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if c.exited() {
		t.Fatal("the consumer exited right after it said ready")
	}
	c.stop(quiet)
	if !c.exited() {
		t.Fatal("stop returned before the consumer was reaped")
	}
	if err := c.failure(); err != nil {
		t.Errorf("failure after a clean exit: %v", err)
	}
	if got, want := c.summary(), "lttd-xen: 3 packets, 12KiB written to /srv/trace; 0 events lost"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// A consumer that exits before it is ready fails startConsumer with its last line on stderr.
func TestConsumerFailsToStart(t *testing.T) {
	lttd := fakeLttd(t, `echo "level=INFO msg=starting" >&2
echo "lttd-xen: $2: output directory is not empty" >&2
exit 1`)
	_, err := startConsumer(lttd, "/run/x", "/srv/full", nil, quiet)
	if err == nil || err.Error() != "lttd-xen: /srv/full: output directory is not empty" {
		t.Fatalf("err %v, want lttd-xen's last line", err)
	}
}

// A consumer that cannot be run at all says which file it is.
func TestConsumerMissing(t *testing.T) {
	_, err := startConsumer(filepath.Join(t.TempDir(), "nope"), "/run/x", "/srv/t", nil, quiet)
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err %v, want it to name the missing executable", err)
	}
}

// consumerCredential: our own uid runs the consumer as dom0; another uid only when dom0 is
// root, as that uid.
func TestConsumerCredential(t *testing.T) {
	me := uint32(os.Geteuid())
	if c, err := consumerCredential(me, 0); c != nil || err != nil {
		t.Errorf("own uid: %v, %v; want as dom0", c, err)
	}
	c, err := consumerCredential(me+1, 77)
	if me == 0 {
		if err != nil || c == nil || c.Uid != 1 || c.Gid != 77 {
			t.Errorf("root dom0, uid 1: %+v, %v; want uid 1 gid 77", c, err)
		}
	} else if err == nil || !strings.Contains(err.Error(), "--no-output") {
		t.Errorf("non-root dom0, another uid: %v; want a refusal naming --no-output", err)
	}
}
