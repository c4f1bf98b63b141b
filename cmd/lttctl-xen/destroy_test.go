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

func TestDestroyNoTrace(t *testing.T) {
	const msg = "no trace exists: create one first (lttctl-xen create)"
	d := startFakeDom0(t, fail(msg, wire.ErrNoTrace))
	r := d.run(t, "destroy")
	r.wantFail(t, cmdline.ExitError)
	if want := name + ": destroy: " + msg + "\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}
