package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestStart(t *testing.T) {
	d := startFakeDom0(t, ok)
	d.run(t, "start").wantOK(t, "tracing started\n")
	d.wantRequests(t, wire.Request{Op: wire.OpStart})
}

func TestStartFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		code *wire.RemoteError
	}{
		{"bad state", "wrong trace state: the trace is already started (stop it first: lttctl-xen stop)", wire.ErrBadState},
		{"no trace", "no trace exists: create one first (lttctl-xen create)", wire.ErrNoTrace},
		{"unavailable", "hypervisor is not reachable: start it with: hypervisor --run-dir /x", wire.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, fail(tc.msg, tc.code))
			r := d.run(t, "start")
			r.wantFail(t, cmdline.ExitError)
			if want := name + ": start: " + tc.msg + "\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			d.wantRequests(t, wire.Request{Op: wire.OpStart})
		})
	}
}
