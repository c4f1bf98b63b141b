package main

import (
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// TestSnapshotUsage: what snapshot rejects itself (exit 2, nothing sent).
// The snapshot itself is tested end to end in tests/flight_test.go and on
// plain memory in package snapshot.
func TestSnapshotUsage(t *testing.T) {
	d := startFakeDom0(t, ok)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--max-size", "lots"}, []string{"--max-size", "lots"}},
		{[]string{"--max-size", "0"}, []string{"--max-size 0", "no limit"}},
		{[]string{"extra"}, []string{"extra"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d.run(t, append([]string{"snapshot"}, tc.args...)...).wantFail(t, cmdline.ExitUsage, tc.want...)
		})
	}
	d.wantRequests(t)
}

// TestSnapshotNoTrace: with no trace, dom0's no_trace answer to map is
// the whole one-line error.
func TestSnapshotNoTrace(t *testing.T) {
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{
		wire.OpStatus: func(*wire.Request) (*wire.Reply, error) {
			return &wire.Reply{Status: &wire.Status{State: wire.StateNone}}, nil
		},
		wire.OpMap: fail("no trace: create one first (lttctl-xen create)", wire.ErrNoTrace),
	}))
	r := d.run(t, "snapshot", "--output", t.TempDir()+"/x")
	r.wantFail(t, cmdline.ExitError)
	if want := name + ": snapshot: map the trace: no trace: create one first (lttctl-xen create)\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}
