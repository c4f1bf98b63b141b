package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// started is a status with every field set.
var started = wire.Status{
	State:               wire.StateStarted,
	SubbufSize:          64 << 10,
	NumSubbuf:           8,
	Mode:                wire.ModeDiscard,
	SwitchTimer:         500 * time.Millisecond,
	CPUs:                8,
	CPUsOnline:          []int{0, 1, 2, 5},
	EventsWritten:       123456,
	EventsLost:          12,
	LostFull:            10,
	LostTooBig:          2,
	PacketsDelivered:    40,
	PacketsConsumed:     38,
	BadConsumed:         1,
	Refcount:            2,
	Readers:             1,
	MetadataVersion:     3,
	UUID:                "5f0c2a9e-3b1d-4e8a-9c47-1d2e3f405162",
	EnabledEvents:       []string{"sched_switch", "irq_entry"},
	Clock:               "tsc",
	ConsumerPID:         4242,
	ConsumerOutput:      "net://relay.example",
	ConsumerSentBytes:   38 << 16,
	ConsumerQueuedBytes: 2 << 16,
	PerCPU: []wire.CPUStatus{
		{CPU: 0, Online: true, EventsWritten: 100000, EventsLost: 12, PacketsDelivered: 30, PacketsConsumed: 28},
		{CPU: 1, Online: true, EventsWritten: 23456, PacketsDelivered: 10, PacketsConsumed: 10},
		{CPU: 2, Online: true},
		{CPU: 3},
		{CPU: 4},
		{CPU: 5, Online: true},
		{CPU: 6},
		{CPU: 7},
	},
	Name:         "web",
	Output:       "/srv/traces/web",
	WorkloadCPUs: []int{0, 1, 2},
}

// statusOf is a handler that answers status requests with st, and event_list with
// eventTypes (2 enabled of 5, as in started).
func statusOf(t *testing.T, st wire.Status) handler {
	return byOp(t, map[wire.Op]handler{
		wire.OpStatus:    func(*wire.Request) (*wire.Reply, error) { return &wire.Reply{Status: &st}, nil },
		wire.OpEventList: listOf(eventTypes),
	})
}

func TestStatusTable(t *testing.T) {
	d := startFakeDom0(t, statusOf(t, started))
	d.run(t, "status").wantOK(t, `session           web
state             started
output            /srv/traces/web
uuid              5f0c2a9e-3b1d-4e8a-9c47-1d2e3f405162
sub-buffers       8 x 64KiB = 512KiB per pCPU
mode              discard
switch timer      500ms
cpus online       0-2,5 (4 of 8)
workload cpus     0-2
events            2 of 5 enabled: sched_switch, irq_entry
events written    123456
events lost       12 (buffer full 10, too big 2)
packets           delivered 40, consumed 38
bad consumed      1
refcount          2
readers           1
consumer          pid 4242, to net://relay.example (sent 2432KiB, queued 128KiB)
clock             tsc
metadata version  3
  cpu  online  written  lost  delivered  consumed
    0     yes   100000    12         30        28
    1     yes    23456     0         10        10
    2     yes        0     0          0         0
    5     yes        0     0          0         0
`)
	d.wantRequests(t, wire.Request{Op: wire.OpStatus}, wire.Request{Op: wire.OpEventList})
}

// TestStatusEvents checks the events line: the names unless every event is enabled, and
// without the total when dom0 or the hypervisor does not list the event types.
func TestStatusEvents(t *testing.T) {
	all := started
	all.EnabledEvents = []string{"sched_switch", "irq_entry", "printk", "net_rx", "heartbeat"}
	for _, tc := range []struct {
		name    string
		st      wire.Status
		list    handler
		want    string
		wantErr string
	}{
		{"some", started, listOf(eventTypes), "2 of 5 enabled: sched_switch, irq_entry", ""},
		{"all", all, listOf(eventTypes), "all 5 enabled", ""},
		{"names cut short", wire.Status{State: wire.StateStarted, EnabledEvents: []string{"sched_switch"}, EnabledCount: 2}, listOf(eventTypes),
			"2 of 5 enabled: sched_switch and 1 more (lttctl-xen event list)", ""},
		{"all, names cut short", wire.Status{State: wire.StateStarted, EnabledEvents: []string{"sched_switch"}, EnabledCount: 5}, listOf(eventTypes),
			"all 5 enabled", ""},
		{"none", wire.Status{State: wire.StateCreated, EnabledEvents: []string{}}, listOf(eventTypes), "none of 5 enabled", ""},
		{"unsupported", started, fail("event_list: op not supported", wire.ErrUnsupported), "2 enabled: sched_switch, irq_entry", ""},
		{"unknown op", all, fail(`op "event_list" is not a tools op`, wire.ErrUnknownOp), "5 enabled: sched_switch, irq_entry, printk, net_rx, heartbeat", ""},
		{"unknown op, none", wire.Status{State: wire.StateStopped}, fail("unknown op", wire.ErrUnknownOp), "none enabled", ""},
		{"fails", started, fail("hypervisor is not reachable", wire.ErrUnavailable), "", "status: event_list: hypervisor is not reachable\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, byOp(t, map[wire.Op]handler{
				wire.OpStatus:    func(*wire.Request) (*wire.Reply, error) { return &wire.Reply{Status: &tc.st}, nil },
				wire.OpEventList: tc.list,
			}))
			r := d.run(t, "status")
			d.wantRequests(t, wire.Request{Op: wire.OpStatus}, wire.Request{Op: wire.OpEventList})
			if tc.wantErr != "" {
				r.wantFail(t, cmdline.ExitError)
				if want := name + ": " + tc.wantErr; r.stderr != want {
					t.Errorf("stderr %q, want %q", r.stderr, want)
				}
				return
			}
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if line := "\nevents            " + tc.want + "\n"; !strings.Contains(r.stdout, line) {
				t.Errorf("status does not show %q", line)
			}
		})
	}
}

func TestStatusTableNoTimer(t *testing.T) {
	st := started
	st.State, st.SwitchTimer, st.EnabledEvents = wire.StateStopped, 0, nil
	d := startFakeDom0(t, statusOf(t, st))
	r := d.run(t, "status")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, line := range []string{"state             stopped\n", "switch timer      off\n", "events            none of 5 enabled\n"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("status does not show %q", line)
		}
	}
}

func TestStatusNoTrace(t *testing.T) {
	d := startFakeDom0(t, statusOf(t, wire.Status{State: wire.StateNone, CPUs: 4, CPUsOnline: []int{0, 1, 2, 3}}))
	d.run(t, "status").wantOK(t, `state        none (no trace: make one with lttctl-xen create)
cpus online  0-3 (4 of 4)
`)
	d.wantRequests(t, wire.Request{Op: wire.OpStatus}) // no trace: no events to count
}

func TestStatusJSON(t *testing.T) {
	for _, st := range []wire.Status{
		started,
		{State: wire.StateNone, CPUs: 2, CPUsOnline: []int{}, EnabledEvents: []string{}},
	} {
		t.Run(string(st.State), func(t *testing.T) {
			d := startFakeDom0(t, statusOf(t, st))
			r := d.run(t, "status", "--json")
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var got wire.Status
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, st) {
				t.Errorf("status --json gave\n%+v\nwant\n%+v", got, st)
			}
			d.wantRequests(t, wire.Request{Op: wire.OpStatus})
			// The field names are the protocol's.
			var fields map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &fields); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"state", "subbuf_size", "num_subbuf", "switch_timer_ns", "cpus_online",
				"events_written", "events_lost", "lost_full", "lost_too_big", "packets_delivered",
				"packets_consumed", "bad_consumed", "refcount", "readers", "metadata_version", "uuid", "enabled_events"} {
				if _, ok := fields[k]; !ok {
					t.Errorf("status --json has no %q", k)
				}
			}
		})
	}
}

func TestStatusFails(t *testing.T) {
	const msg = "hypervisor is not reachable at /run/x/hypervisor.sock (start it with: hypervisor --run-dir /run/x)"
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		d := startFakeDom0(t, fail(msg, wire.ErrUnavailable))
		r := d.run(t, args...)
		r.wantFail(t, cmdline.ExitError)
		if want := name + ": status: " + msg + "\n"; r.stderr != want {
			t.Errorf("stderr %q, want %q", r.stderr, want)
		}
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		ids  []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{0, 2, 4}, "0,2,4"},
		{[]int{7, 0, 1, 2, 5, 6}, "0-2,5-7"},
		{[]int{3, 3, 4}, "3-4"},
	} {
		if got := ranges(tc.ids); got != tc.want {
			t.Errorf("ranges(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}

// TestStatusPerCPUPaged: a per-pCPU list that comes in pages is fetched whole
// (one status request per page) and printed as if it came at once.
func TestStatusPerCPUPaged(t *testing.T) {
	whole := startFakeDom0(t, statusOf(t, started))
	want := whole.run(t, "status", "--json")
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{
		wire.OpStatus: func(req *wire.Request) (*wire.Reply, error) {
			st := started
			from := 0
			if req.Status != nil {
				from = req.Status.CPUFrom
			}
			st.PerCPU = started.PerCPU[from:min(from+3, len(started.PerCPU))]
			if from+3 < len(started.PerCPU) {
				st.NextCPU = from + 3
			}
			return &wire.Reply{Status: &st}, nil
		},
		wire.OpEventList: listOf(eventTypes),
	}))
	got := d.run(t, "status", "--json")
	if got.code != 0 || got.stdout != want.stdout {
		t.Errorf("paged status:\n%s\nwant:\n%s", got.stdout, want.stdout)
	}
	d.wantRequests(t, wire.Request{Op: wire.OpStatus},
		wire.Request{Op: wire.OpStatus, Status: &wire.StatusArgs{CPUFrom: 3}},
		wire.Request{Op: wire.OpStatus, Status: &wire.StatusArgs{CPUFrom: 6}})
}
