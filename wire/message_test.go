package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func validCreate() *CreateArgs {
	return &CreateArgs{SubbufSize: 4096, NumSubbuf: 4, Mode: ModeDiscard, SwitchTimer: 100 * time.Millisecond}
}

func TestRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  Request
		want error // nil, ErrBadRequest or ErrUnknownOp
	}{
		{"status", Request{Op: OpStatus}, nil},
		{"bind_virq", Request{Op: OpBindVIRQ}, nil},
		{"poll", Request{Op: OpPoll}, nil},
		{"create", Request{Op: OpCreate, Create: validCreate()}, nil},
		{"trace_create globs", Request{Op: OpTraceCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1, Mode: ModeDiscard, Events: []string{"sched_*", "irq_[a-c]"}}}, nil},
		{"unmap", Request{Op: OpUnmap, Unmap: &UnmapArgs{MapID: 1}}, nil},
		{"event_add", Request{Op: OpEventAdd, EventAdd: &EventAddArgs{Decl: "x(u32 a)"}}, nil},
		{"emit", Request{Op: OpEmit, Emit: &EmitArgs{CPU: 1, Name: "x", Fields: map[string]string{"a": "1"}}}, nil},
		{"enable", Request{Op: OpEnableEvent, Events: &EventsArgs{Globs: []string{"*"}}}, nil},
		{"cpu_offline", Request{Op: OpCPUOffline, CPU: &CPUArgs{CPU: 3}}, nil},
		{"event_list", Request{Op: OpEventList}, nil},
		{"event_list page", Request{Op: OpEventList, EventList: &EventListArgs{From: 40}}, nil},
		{"event_list with other args", Request{Op: OpEventList, CPU: &CPUArgs{}}, ErrBadRequest},
		{"status with event_list args", Request{Op: OpStatus, EventList: &EventListArgs{}}, ErrBadRequest},
		{"status page", Request{Op: OpStatus, Status: &StatusArgs{CPUFrom: 64}}, nil},
		{"status negative page", Request{Op: OpStatus, Status: &StatusArgs{CPUFrom: -1}}, ErrBadRequest},

		{"empty op", Request{}, ErrUnknownOp},
		{"unknown op", Request{Op: "reboot"}, ErrUnknownOp},
		{"create without args", Request{Op: OpCreate}, ErrBadRequest},
		{"status with args", Request{Op: OpStatus, CPU: &CPUArgs{}}, ErrBadRequest},
		{"create with extra args", Request{Op: OpCreate, Create: validCreate(), Unmap: &UnmapArgs{MapID: 1}}, ErrBadRequest},
		{"zero subbuf size", Request{Op: OpCreate, Create: &CreateArgs{NumSubbuf: 1, Mode: ModeDiscard}}, ErrBadRequest},
		{"zero subbufs", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, Mode: ModeDiscard}}, ErrBadRequest},
		{"bad mode", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1, Mode: "ring"}}, ErrBadRequest},
		{"no mode", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1}}, ErrBadRequest},
		{"overwrite mode", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1, Mode: ModeOverwrite}}, nil},
		{"no mode", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1}}, ErrBadRequest},
		{"negative timer", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1, Mode: ModeDiscard, SwitchTimer: -1}}, ErrBadRequest},
		{"bad glob", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1, Mode: ModeDiscard, Events: []string{"a["}}}, ErrBadRequest},
		{"empty glob", Request{Op: OpCreate, Create: &CreateArgs{SubbufSize: 1, NumSubbuf: 1, Mode: ModeDiscard, Events: []string{""}}}, ErrBadRequest},
		{"unmap 0", Request{Op: OpUnmap, Unmap: &UnmapArgs{}}, ErrBadRequest},
		{"empty decl", Request{Op: OpEventAdd, EventAdd: &EventAddArgs{Decl: " "}}, ErrBadRequest},
		{"emit no name", Request{Op: OpEmit, Emit: &EmitArgs{}}, ErrBadRequest},
		{"emit negative cpu", Request{Op: OpEmit, Emit: &EmitArgs{CPU: -1, Name: "x"}}, ErrBadRequest},
		{"emit empty field", Request{Op: OpEmit, Emit: &EmitArgs{Name: "x", Fields: map[string]string{"": "1"}}}, ErrBadRequest},
		{"enable no globs", Request{Op: OpEnableEvent, Events: &EventsArgs{}}, ErrBadRequest},
		{"negative cpu", Request{Op: OpCPUOnline, CPU: &CPUArgs{CPU: -2}}, ErrBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if re := ErrorReply(err); re.Code != tc.want.(*RemoteError).Code {
				t.Fatalf("reply code %q", re.Code)
			}
		})
	}
}

func TestProtocols(t *testing.T) {
	for _, op := range []Op{OpBindVIRQ, OpTraceCreate, OpMap, OpUnmap, OpTraceStart, OpTraceStop, OpTraceDestroy, OpStatus, OpEmit} {
		if !Hypercalls.Has(op) {
			t.Errorf("hypercall protocol lacks %s", op)
		}
	}
	for _, op := range []Op{OpCreate, OpStart, OpStop, OpDestroy, OpStatus, OpMap, OpUnmap, OpPoll, OpCPUOnline} {
		if !Tools.Has(op) {
			t.Errorf("tools protocol lacks %s", op)
		}
	}
	for _, op := range []Op{OpBindVIRQ, OpTraceStart} {
		if Tools.Has(op) {
			t.Errorf("tools protocol has %s", op)
		}
		if err := Tools.Validate(&Request{Op: op}); !errors.Is(err, ErrUnknownOp) {
			t.Errorf("tools validate %s: %v", op, err)
		}
	}
	if Hypercalls.Has(OpPoll) || Hypercalls.Has(OpCreate) {
		t.Error("hypercall protocol has a tools op")
	}
	// Every op of a protocol is in the spec table and vice versa.
	all := map[Op]bool{}
	for _, p := range []*Protocol{Hypercalls, Tools} {
		ops := p.Ops()
		if !slices.IsSorted(ops) {
			t.Errorf("%s ops not sorted", p.Name())
		}
		for _, op := range ops {
			all[op] = true
		}
	}
	for op := range opSpecs {
		if !all[op] {
			t.Errorf("op %s in no protocol", op)
		}
	}
	for op, n := range map[Op]int{OpMap: 3, OpBindVIRQ: 1, OpPoll: 1, OpStatus: 0, "nope": 0} {
		if got := ReplyFDs(op); got != n {
			t.Errorf("ReplyFDs(%s) = %d, want %d", op, got, n)
		}
	}
}

// TestStatusJSON pins the JSON names of Status, which other programs parse.
func TestStatusJSON(t *testing.T) {
	b, err := json.Marshal(Status{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"state", "subbuf_size", "num_subbuf", "mode", "switch_timer_ns", "cpus",
		"cpus_online", "events_written", "events_lost", "lost_full", "lost_too_big",
		"packets_delivered", "packets_consumed", "bad_consumed", "refcount", "readers",
		"metadata_version", "uuid", "enabled_events", "enabled_count", "consumer_pid", "consumer_sent_bytes", "consumer_queued_bytes",
		"name"}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Status JSON keys\n got %v\nwant %v", got, want)
	}
	b, err = json.Marshal(Status{SwitchTimer: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"switch_timer_ns":2000000`) {
		t.Fatalf("switch timer not in ns: %s", b)
	}
}

func TestRemoteErrors(t *testing.T) {
	err := fmt.Errorf("dom0: relay: %w", fmt.Errorf("trace_start: state created: %w", ErrBadState))
	rep := ErrorReply(err)
	if rep.OK || rep.Code != CodeBadState || rep.Error != err.Error() {
		t.Fatalf("ErrorReply: %+v", rep)
	}
	back := rep.Err()
	if !errors.Is(back, ErrBadState) || errors.Is(back, ErrNoTrace) {
		t.Fatalf("Err: %v", back)
	}
	if back.Error() != err.Error() {
		t.Fatalf("text %q", back.Error())
	}
	// A relayed remote error keeps its code.
	relayed := ErrorReply(fmt.Errorf("relay: %w", back))
	if relayed.Code != CodeBadState {
		t.Fatalf("relayed code %q", relayed.Code)
	}
	// Errors without a code are internal.
	if r := ErrorReply(errors.New("boom")); r.Code != CodeInternal || r.Error != "boom" {
		t.Fatalf("plain error: %+v", r)
	}
	if (&Reply{OK: true}).Err() != nil {
		t.Fatal("OK reply has an error")
	}
	if ErrNoTrace.Error() != "no trace" {
		t.Fatalf("sentinel text %q", ErrNoTrace.Error())
	}
	if e := (&RemoteError{Code: "future_code"}); e.Error() != "future_code" {
		t.Fatalf("unknown code text %q", e.Error())
	}
	// A code-only RemoteError matches, one with a message is not a sentinel.
	if errors.Is(ErrBadState, &RemoteError{Code: CodeBadState, Msg: "x"}) {
		t.Fatal("matched a non-sentinel target")
	}
}

func TestDecodeReply(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"ok":true}`, true},
		{`{"ok":true,"status":{"state":"started","cpus_online":[0,1]},"unknown":1}`, true},
		{`{"ok":false,"code":"bad_state","error":"x"}`, true},
		{`{"ok":false,"code":"some_future_code"}`, true},
		{`{"ok":false}`, false},
		{`{"ok":true,"code":"x"}`, false},
		{`{"ok":true,"error":"x"}`, false},
		{`{"ok":"yes"}`, false},
		{`{"ok":true,"status":{"state":"dancing"}}`, false},
		{`{"ok":true,"status":{"cpus":"4"}}`, false},
		{`{"ok":true,"map_id":-1}`, false},
		{`{"ok":true,"events":[{"id":1,"name":"a","fields":[{"name":"x","type":"u32"}],"enabled":true}]}`, true},
		{`{"ok":true,"events":{}}`, false},
		{`null`, false},
		{``, false},
		{`{"ok":true}{"ok":true}`, false},
	} {
		rep, err := DecodeReply([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("DecodeReply(%s) = %+v, %v", tc.in, rep, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeReply(%s): %v is not ErrMalformed", tc.in, err)
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	req, err := DecodeRequest([]byte(`{"op":"trace_create","create":{"subbuf_size":65536,"num_subbuf":8,"mode":"discard","switch_timer_ns":1000000,"events":["sched_*"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := CreateArgs{SubbufSize: 65536, NumSubbuf: 8, Mode: ModeDiscard, SwitchTimer: time.Millisecond, Events: []string{"sched_*"}}
	if req.Op != OpTraceCreate || req.Create.SubbufSize != want.SubbufSize || req.Create.SwitchTimer != want.SwitchTimer ||
		!slices.Equal(req.Create.Events, want.Events) {
		t.Fatalf("got %+v", req.Create)
	}
	for _, in := range []string{
		`{"op":"trace_create","create":{"subbuf_size":"64KiB","num_subbuf":8,"mode":"discard"}}`,
		`{"op":"trace_create","create":{"subbuf_size":-1,"num_subbuf":8,"mode":"discard"}}`,
		`{"op":"trace_create","create":[]}`,
		`{"op":["status"]}`,
		strings.Repeat(" ", MaxMessageSize+1),
	} {
		if _, err := DecodeRequest([]byte(in)); !errors.Is(err, ErrBadRequest) {
			t.Errorf("DecodeRequest(%.60s): %v", in, err)
		}
	}
	if _, err := DecodeRequest([]byte(`{"op":"fly"}`)); !errors.Is(err, ErrUnknownOp) {
		t.Errorf("unknown op: %v", err)
	}
}

// TestErrorReplyFits: an error whose text quotes a large request (a 70 KB
// declaration in a parse error) still makes a reply that fits a message,
// cut with a note of how much was left out.
func TestErrorReplyFits(t *testing.T) {
	a, b := pair(t)
	long := fmt.Errorf("bad event declaration: %q: column 9: unexpected ')': %w", strings.Repeat("x", 70<<10), ErrBadRequest)
	if err := a.ReplyError(long); err != nil {
		t.Fatalf("ReplyError: %v", err)
	}
	var rep Reply
	if _, err := b.Recv(&rep, 0); err != nil {
		t.Fatal(err)
	}
	if rep.Code != CodeBadRequest || !strings.HasPrefix(rep.Error, "bad event declaration: \"xxx") || !strings.Contains(rep.Error, "bytes left out") {
		t.Fatalf("reply code %q, error %.80q…", rep.Code, rep.Error)
	}
}
