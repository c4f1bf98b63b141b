package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// eventTypes is an event table, by id; sched_switch and irq_entry are enabled.
var eventTypes = []wire.EventInfo{
	{ID: 0, Name: "sched_switch", Fields: []wire.FieldInfo{{Name: "prev", Type: "u32"}, {Name: "next", Type: "u32"}}, Enabled: true},
	{ID: 1, Name: "irq_entry", Fields: []wire.FieldInfo{{Name: "irq", Type: "u16"}}, Enabled: true},
	{ID: 2, Name: "printk", Fields: []wire.FieldInfo{{Name: "msg", Type: "string"}}},
	{ID: 12, Name: "net_rx", Fields: []wire.FieldInfo{{Name: "a", Type: "u32"}, {Name: "b", Type: "s64"}, {Name: "msg", Type: "string"}, {Name: "raw", Type: "bytes"}}},
	{ID: 13, Name: "heartbeat", Fields: []wire.FieldInfo{}},
}

// listOf answers event_list with events, in reverse order (the command sorts them by id).
func listOf(events []wire.EventInfo) handler {
	return func(*wire.Request) (*wire.Reply, error) {
		rev := slices.Clone(events)
		slices.Reverse(rev)
		return &wire.Reply{Events: rev}, nil
	}
}

func TestEventList(t *testing.T) {
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{wire.OpEventList: listOf(eventTypes)}))
	d.run(t, "event", "list").wantOK(t, `ID  NAME          FIELDS                                 ENABLED
0   sched_switch  (u32 prev, u32 next)                   yes
1   irq_entry     (u16 irq)                              yes
2   printk        (string msg)                           no
12  net_rx        (u32 a, s64 b, string msg, bytes raw)  no
13  heartbeat     ()                                     no
`)
	d.wantRequests(t, wire.Request{Op: wire.OpEventList})
}

func TestEventListJSON(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []wire.EventInfo
	}{
		{"table", eventTypes},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, byOp(t, map[wire.Op]handler{wire.OpEventList: listOf(tc.events)}))
			r := d.run(t, "event", "list", "--json")
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var got []wire.EventInfo
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Errorf("event list --json printed %q, want an array", r.stdout)
			}
			if want := tc.events; len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("event list --json gave\n%+v\nwant\n%+v", got, want)
			}
			// The field names are the protocol's.
			var objs []map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				for _, k := range []string{"id", "name", "fields", "enabled"} {
					if _, ok := o[k]; !ok {
						t.Errorf("event list --json: %v has no %q", o, k)
					}
				}
			}
		})
	}
}

func TestEventListFails(t *testing.T) {
	const msg = "hypervisor is not reachable at /run/x/hypervisor.sock (start it with: hypervisor --run-dir /run/x)"
	for _, args := range [][]string{{"event", "list"}, {"event", "list", "--json"}} {
		d := startFakeDom0(t, fail(msg, wire.ErrUnavailable))
		r := d.run(t, args...)
		r.wantFail(t, cmdline.ExitError)
		if want := name + ": event list: " + msg + "\n"; r.stderr != want {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
	}
}

func TestEventUsage(t *testing.T) {
	d := startFakeDom0(t, ok)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"event"}, []string{"event: no subcommand given (want add or list)", "lttctl-xen event --help"}},
		{[]string{"event", "remove"}, []string{`event: unknown subcommand "remove" (want add or list)`}},
		{[]string{"event", "list", "all"}, []string{`event list: unexpected argument "all"`, "lttctl-xen event list --help"}},
		{[]string{"event", "list", "--yaml"}, []string{"event list: ", "--yaml", "not defined"}},
	} {
		d.run(t, tc.args...).wantFail(t, cmdline.ExitUsage, tc.want...)
	}
	d.wantRequests(t)
}

// pagesOf answers event_list with events two at a time, as the hypervisor
// pages a list that does not fit one message.
func pagesOf(events []wire.EventInfo) handler {
	return func(req *wire.Request) (*wire.Reply, error) {
		var from uint32
		if req.EventList != nil {
			from = req.EventList.From
		}
		i := slices.IndexFunc(events, func(ev wire.EventInfo) bool { return ev.ID >= from })
		if i < 0 {
			return &wire.Reply{Events: []wire.EventInfo{}}, nil
		}
		rep := &wire.Reply{Events: events[i:min(i+2, len(events))]}
		if i+2 < len(events) {
			rep.NextEvent = events[i+2].ID
		}
		return rep, nil
	}
}

// TestEventListPaged: a list in pages is fetched whole, one request per page.
func TestEventListPaged(t *testing.T) {
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{wire.OpEventList: pagesOf(eventTypes)}))
	r := d.run(t, "event", "list", "--json")
	var got []wire.EventInfo
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || !reflect.DeepEqual(got, eventTypes) {
		t.Fatalf("got %v (%v), want %v", got, err, eventTypes)
	}
	d.wantRequests(t, wire.Request{Op: wire.OpEventList},
		wire.Request{Op: wire.OpEventList, EventList: &wire.EventListArgs{From: 2}},
		wire.Request{Op: wire.OpEventList, EventList: &wire.EventListArgs{From: 13}})
}
