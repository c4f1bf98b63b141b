package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestStop(t *testing.T) {
	d := startFakeDom0(t, ok)
	d.run(t, "stop").wantOK(t, "tracing stopped\n")
	d.wantRequests(t, wire.Request{Op: wire.OpStop})
}

func TestStopNotStarted(t *testing.T) {
	const msg = "wrong trace state: the trace is created, not started (start it with: lttctl-xen start)"
	d := startFakeDom0(t, fail(msg, wire.ErrBadState))
	r := d.run(t, "stop")
	r.wantFail(t, cmdline.ExitError)
	if want := name + ": stop: " + msg + "\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}
