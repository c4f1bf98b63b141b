package main

import (
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestEmit(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want wire.EmitArgs
		out  string
	}{
		{
			[]string{"--cpu", "2", "net_rx", "a=1", "msg=hi"},
			wire.EmitArgs{CPU: 2, Name: "net_rx", Fields: map[string]string{"a": "1", "msg": "hi"}},
			"event net_rx emitted on cpu 2\n",
		},
		{
			[]string{"heartbeat"},
			wire.EmitArgs{CPU: 0, Name: "heartbeat"},
			"event heartbeat emitted on cpu 0\n",
		},
		{
			// Everything after the first '=' is the value, which may be empty, hold
			// spaces or start with '-'; the hypervisor checks it against the field's type.
			[]string{"--cpu=1", "net_rx", "msg=a=b c", "b=-5", "raw=", "a=0x1_0000_0000"},
			wire.EmitArgs{CPU: 1, Name: "net_rx", Fields: map[string]string{"msg": "a=b c", "b": "-5", "raw": "", "a": "0x1_0000_0000"}},
			"event net_rx emitted on cpu 1\n",
		},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d := startFakeDom0(t, byOp(t, map[wire.Op]handler{wire.OpEmit: ok}))
			d.run(t, append([]string{"emit"}, tc.args...)...).wantOK(t, tc.out)
			d.wantRequests(t, wire.Request{Op: wire.OpEmit, Emit: &tc.want})
		})
	}
}

// TestEmitUsage checks what emit rejects itself: exit 2, nothing sent.
func TestEmitUsage(t *testing.T) {
	d := startFakeDom0(t, ok)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"emit: no event name given"}},
		{[]string{"--cpu", "2"}, []string{"emit: no event name given"}},
		{[]string{"--cpu", "-1", "x"}, []string{"emit: --cpu -1: must not be negative"}},
		{[]string{"--cpu", "one", "x"}, []string{"emit: ", "--cpu", "one"}},
		{[]string{"net-rx"}, []string{`emit: event name "net-rx" is not an identifier`}},
		{[]string{"a=1"}, []string{`emit: event name "a=1" is not an identifier`}},
		{[]string{"_x"}, []string{`emit: event name "_x" starts with '_'`}},
		{[]string{"net_rx", "a"}, []string{`emit: argument "a": want FIELD=VALUE`}},
		{[]string{"net_rx", "=1"}, []string{`emit: argument "=1": empty field name`}},
		{[]string{"net_rx", "a b=1"}, []string{`emit: argument "a b=1": field name "a b" is not an identifier`}},
		{[]string{"net_rx", "a=1", "msg=x", "a=2"}, []string{"emit: field a given twice"}},
		{[]string{"net_rx", "a=1", "--cpu", "2"}, []string{`emit: "--cpu" after the arguments: flags go before them`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d.run(t, append([]string{"emit"}, tc.args...)...).wantFail(t, cmdline.ExitUsage, append(tc.want, "lttctl-xen emit --help")...)
		})
	}
	d.wantRequests(t)
}

// TestEmitFails checks that the hypervisor's refusals are printed whole, exit 1.
func TestEmitFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		code *wire.RemoteError
	}{
		{"unknown field", "event net_rx has no field c (its fields: net_rx(u32 a, string msg))", wire.ErrBadRequest},
		{"missing field", "missing field msg=string for event net_rx(u32 a, string msg)", wire.ErrBadRequest},
		{"out of range", `field a: bad field value: u32 "4294967296": out of range [0, 4294967295]`, wire.ErrBadRequest},
		{"unknown event", `no event type "net_rx" (see: lttctl-xen event list)`, wire.ErrNotFound},
		{"offline cpu", "wrong trace state: pCPU 2 is offline (lttctl-xen cpu online 2)", wire.ErrBadState},
		{"no such cpu", "pCPU 2 does not exist (pCPUs 0-1)", wire.ErrNotFound},
		{"not started", "wrong trace state: the trace is stopped; emit needs a started trace (lttctl-xen start)", wire.ErrBadState},
		{"disabled", "event net_rx is disabled in this trace: nothing written (lttctl-xen enable-event net_rx)", wire.ErrEventDisabled},
		{"buffer full", "the buffer is full: the net_rx record was dropped and counted in lost_full (is lttd-xen consuming?)", wire.ErrBufferFull},
		{"too large", "the net_rx record is 5000 bytes, a sub-buffer holds at most 4024 (create the trace with a larger --subbuf-size)", wire.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, fail(tc.msg, tc.code))
			r := d.run(t, "emit", "--cpu", "2", "net_rx", "a=4294967296", "c=1")
			r.wantFail(t, cmdline.ExitError)
			if want := name + ": emit: " + tc.msg + "\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			d.wantRequests(t, wire.Request{Op: wire.OpEmit, Emit: &wire.EmitArgs{
				CPU: 2, Name: "net_rx", Fields: map[string]string{"a": "4294967296", "c": "1"}}})
		})
	}
}

// TestEmitOverMessageLimit: a request that cannot fit one message is refused
// before it is sent, and the error gives the limit.
func TestEmitOverMessageLimit(t *testing.T) {
	d := startFakeDom0(t, ok)
	r := d.run(t, "emit", "printk", "msg="+strings.Repeat("x", wire.MaxMessageSize))
	r.wantFail(t, cmdline.ExitError, "65536-byte limit of one message")
	d.wantRequests(t)
}
