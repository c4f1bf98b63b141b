package main

import (
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// added is a handler that answers event_add with the event of id 42 it declares.
func added(t *testing.T) handler {
	return byOp(t, map[wire.Op]handler{
		wire.OpEventAdd: func(req *wire.Request) (*wire.Reply, error) {
			name, _, _ := strings.Cut(req.EventAdd.Decl, "(")
			return &wire.Reply{Events: []wire.EventInfo{{ID: 42, Name: strings.TrimSpace(name), Enabled: true}}}, nil
		},
	})
}

func TestEventAdd(t *testing.T) {
	for _, decl := range []string{
		"net_rx(u32 a, s64 b, string msg)",
		"net_rx()",
		" net_rx ( u8 a,\n\tbytes b ) ",
	} {
		t.Run(decl, func(t *testing.T) {
			d := startFakeDom0(t, added(t))
			d.run(t, "event", "add", decl).wantOK(t, "event net_rx added: id 42\n")
			// The declaration goes as written: the hypervisor parses it again.
			d.wantRequests(t, wire.Request{Op: wire.OpEventAdd, EventAdd: &wire.EventAddArgs{Decl: decl}})
		})
	}
}

// TestEventAddUsage checks what event add rejects itself, with record.ParseDecl's message
// naming the problem: exit 2 and nothing sent.
func TestEventAddUsage(t *testing.T) {
	d := startFakeDom0(t, added(t))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"event add: no declaration given"}},
		{[]string{"x(u32", "a)"}, []string{"event add: 2 arguments", "quote the declaration", "'x(u32 a)'"}},
		{[]string{""}, []string{"bad event declaration", "expected an event name"}},
		{[]string{"x(u32 a"}, []string{"bad event declaration", `"x(u32 a"`, "column 8", "expected ',' or ')'"}},
		{[]string{"x u32 a"}, []string{"bad event declaration", "expected '('"}},
		{[]string{"x(u33 a)"}, []string{"bad event declaration", "column 3", `unknown type "u33"`}},
		{[]string{"x(string s, u8 a, u16 a)"}, []string{"bad event declaration", `duplicate field name "a"`}},
		{[]string{"9x(u8 a)"}, []string{"bad event declaration", `event name "9x" is not an identifier`}},
		{[]string{"net-rx(u8 a)"}, []string{"bad event declaration", `"net-rx" is not an identifier`}},
		{[]string{"_x()"}, []string{"bad event declaration", "starts with '_'"}},
		{[]string{"x(u8 a-b)"}, []string{"bad event declaration", `field name "a-b" is not an identifier`}},
		{[]string{"x(u8)"}, []string{"bad event declaration", "expected a field name after type u8"}},
		{[]string{"x(bytes p, u32 p_length)"}, []string{"bad event declaration", `field name "p_length" is taken by the length of bytes field p`}},
		{[]string{"x() y"}, []string{"bad event declaration", `unexpected "y"`}},
		{[]string{"--cpu", "1", "x()"}, []string{"event add: ", "--cpu", "not defined"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := d.run(t, append([]string{"event", "add"}, tc.args...)...)
			r.wantFail(t, cmdline.ExitUsage, append(tc.want, "lttctl-xen event add --help")...)
		})
	}
	d.wantRequests(t)
}

func TestEventAddFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		code *wire.RemoteError
	}{
		{"exists", "event type net_rx already exists (see: lttctl-xen event list)", wire.ErrExists},
		{"rejected", "bad event declaration: too many event types", wire.ErrBadRequest},
		{"unsupported", "event_add: op not supported", wire.ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, fail(tc.msg, tc.code))
			r := d.run(t, "event", "add", "net_rx(u32 len)")
			r.wantFail(t, cmdline.ExitError)
			if want := name + ": event add: " + tc.msg + "\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			d.wantRequests(t, wire.Request{Op: wire.OpEventAdd, EventAdd: &wire.EventAddArgs{Decl: "net_rx(u32 len)"}})
		})
	}
}

func TestEventAddNoEventInReply(t *testing.T) {
	d := startFakeDom0(t, ok)
	d.run(t, "event", "add", "net_rx(u32 len)").wantFail(t, cmdline.ExitError, "event add: the reply names no event")
}
