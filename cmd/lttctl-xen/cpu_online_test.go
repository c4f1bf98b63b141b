package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// testSetCPU checks cpu online or cpu offline (sub, sending op).
func testSetCPU(t *testing.T, sub string, op wire.Op) {
	t.Run("ok", func(t *testing.T) {
		for _, tc := range []struct {
			arg  string
			want int
		}{{"0", 0}, {"3", 3}, {"255", 255}} {
			d := startFakeDom0(t, byOp(t, map[wire.Op]handler{op: ok}))
			d.run(t, "cpu", sub, tc.arg).wantOK(t, fmt.Sprintf("cpu %d %s\n", tc.want, sub))
			d.wantRequests(t, wire.Request{Op: op, CPU: &wire.CPUArgs{CPU: tc.want}})
		}
	})
	t.Run("usage", func(t *testing.T) {
		d := startFakeDom0(t, ok)
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{nil, []string{"cpu " + sub + ": no pCPU given", "write: cpu " + sub + " 3"}},
			{[]string{"x"}, []string{"cpu " + sub + `: "x" is not a pCPU number`}},
			{[]string{"1.5"}, []string{"cpu " + sub + `: "1.5" is not a pCPU number`}},
			{[]string{"1", "2"}, []string{"cpu " + sub + `: unexpected argument "2": one pCPU at a time`}},
			{[]string{"-1"}, []string{"cpu " + sub + ": ", "-1", "not defined"}},
		} {
			t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
				d.run(t, append([]string{"cpu", sub}, tc.args...)...).wantFail(t, cmdline.ExitUsage, append(tc.want, "lttctl-xen cpu "+sub+" --help")...)
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
			{"no such cpu", "pCPU 9 does not exist (pCPUs 0-3; the hypervisor's --max-cpus sets the range)", wire.ErrNotFound},
			{"already", "wrong trace state: pCPU 9 is already " + sub, wire.ErrBadState},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d := startFakeDom0(t, fail(tc.msg, tc.code))
				r := d.run(t, "cpu", sub, "9")
				r.wantFail(t, cmdline.ExitError)
				if want := name + ": cpu " + sub + ": " + tc.msg + "\n"; r.stderr != want {
					t.Errorf("stderr %q, want %q", r.stderr, want)
				}
				d.wantRequests(t, wire.Request{Op: op, CPU: &wire.CPUArgs{CPU: 9}})
			})
		}
	})
}

func TestCPUOnline(t *testing.T) { testSetCPU(t, "online", wire.OpCPUOnline) }

func TestCPUUsage(t *testing.T) {
	d := startFakeDom0(t, ok)
	d.run(t, "cpu").wantFail(t, cmdline.ExitUsage, "cpu: no subcommand given (want online or offline)", "lttctl-xen cpu --help")
	d.run(t, "cpu", "up", "1").wantFail(t, cmdline.ExitUsage, `cpu: unknown subcommand "up" (want online or offline)`)
	d.wantRequests(t)
}
