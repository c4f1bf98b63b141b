package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestList(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   wire.Status
		out  string
	}{
		{"none", wire.Status{State: wire.StateNone}, "Currently no available tracing session\n"},
		{"output", wire.Status{State: wire.StateStarted, Name: "web", Output: "/srv/web"},
			"Available tracing sessions:\n  1) web (/srv/web) [started]\n"},
		{"no output", wire.Status{State: wire.StateCreated, Name: "auto-20260102-030405"},
			"Available tracing sessions:\n  1) auto-20260102-030405 (no output: an lttd-xen of yours, if any) [created]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, statusOf(t, tc.st))
			d.run(t, "list").wantOK(t, tc.out)
			d.wantRequests(t, wire.Request{Op: wire.OpStatus})
		})
	}
	d := startFakeDom0(t, ok)
	d.run(t, "list", "all").wantFail(t, cmdline.ExitUsage, `list: unexpected argument "all"`)
}
