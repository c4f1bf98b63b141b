package main

import (
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// testSetEvents checks enable-event or disable-event (cmd, sending op, printing done).
func testSetEvents(t *testing.T, cmd string, op wire.Op, done string) {
	t.Run("ok", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"sched_*"}, []string{"sched_*"}},
			{[]string{"irq_*", "page_fault"}, []string{"irq_*", "page_fault"}},
			{[]string{"sched_*, irq_?", "[a-c]*,[^x]y"}, []string{"sched_*", "irq_?", "[a-c]*", "[^x]y"}},
		} {
			t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
				d := startFakeDom0(t, byOp(t, map[wire.Op]handler{op: ok}))
				d.run(t, append([]string{cmd}, tc.args...)...).wantOK(t, "events "+done+": "+strings.Join(tc.want, ", ")+"\n")
				d.wantRequests(t, wire.Request{Op: op, Events: &wire.EventsArgs{Globs: tc.want}})
			})
		}
	})
	t.Run("usage", func(t *testing.T) {
		d := startFakeDom0(t, ok)
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{nil, []string{cmd + ": no glob given", "write: " + cmd + " 'sched_*'"}},
			{[]string{"sched_["}, []string{cmd + `: "sched_[": bad glob: syntax error in pattern`}},
			{[]string{"a,,b"}, []string{cmd + ": empty glob"}},
			{[]string{""}, []string{cmd + ": empty glob"}},
			{[]string{"a", "--all"}, []string{cmd + `: "--all" after the arguments: flags go before them`}},
			{[]string{"--all"}, []string{cmd + ": ", "--all", "not defined"}},
		} {
			t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
				d.run(t, append([]string{cmd}, tc.args...)...).wantFail(t, cmdline.ExitUsage, append(tc.want, "lttctl-xen "+cmd+" --help")...)
			})
		}
		d.wantRequests(t)
	})
	t.Run("fails", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			msg  string
			code *wire.RemoteError
		}{
			{"no match", `event glob "schd_*" matches no event type (see: lttctl-xen event list)`, wire.ErrNotFound},
			{"no trace", "no trace exists: create one first (lttctl-xen create)", wire.ErrNoTrace},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d := startFakeDom0(t, fail(tc.msg, tc.code))
				r := d.run(t, cmd, "schd_*")
				r.wantFail(t, cmdline.ExitError)
				if want := name + ": " + cmd + ": " + tc.msg + "\n"; r.stderr != want {
					t.Errorf("stderr %q, want %q", r.stderr, want)
				}
				d.wantRequests(t, wire.Request{Op: op, Events: &wire.EventsArgs{Globs: []string{"schd_*"}}})
			})
		}
	})
}

func TestEnableEvent(t *testing.T) { testSetEvents(t, "enable-event", wire.OpEnableEvent, "enabled") }
