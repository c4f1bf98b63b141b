package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestDestroy(t *testing.T) {
	d := startFakeDom0(t, ok)
	d.run(t, "destroy").wantOK(t, "trace destroyed\n")
	d.wantRequests(t, wire.Request{Op: wire.OpDestroy})
}

// The summary of the session's consumer, which dom0 returns once it has exited, is printed.
func TestDestroySummary(t *testing.T) {
	const sum = "lttd-xen: 12 packets, 768KiB written to /srv/t; 0 events lost"
	d := startFakeDom0(t, func(*wire.Request) (*wire.Reply, error) { return &wire.Reply{Summary: sum}, nil })
	d.run(t, "destroy").wantOK(t, "trace destroyed\n"+sum+"\n")
}

func TestDestroyNoTrace(t *testing.T) {
	const msg = "no trace exists: create one first (lttctl-xen create)"
	d := startFakeDom0(t, fail(msg, wire.ErrNoTrace))
	r := d.run(t, "destroy")
	r.wantFail(t, cmdline.ExitError)
	if want := name + ": destroy: " + msg + "\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}
