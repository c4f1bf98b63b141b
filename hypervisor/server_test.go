package hypervisor

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// serveT runs h's hypercall server on a socket and returns a connection
// that has bound VIRQ_TBUF.
func serveT(t *testing.T, h *Hypervisor) *wire.Conn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hv.sock")
	ln, err := wire.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h, ln, nil)
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	c, err := wire.Dial(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_, files, err := c.Call(&wire.Request{Op: wire.OpBindVIRQ})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	return c
}

func call(t *testing.T, c *wire.Conn, req *wire.Request) *wire.Reply {
	t.Helper()
	rep, files, err := c.Call(req)
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		t.Fatalf("%s: %v", req.Op, err)
	}
	return rep
}

// TestRepliesFitTheDatagram: with as many event types as the cap allows,
// long names and many fields, status still answers, the event list comes
// whole in pages that each fit a message, and one more event type is
// refused with the cap.
func TestRepliesFitTheDatagram(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 2, Rate: 1})
	c := serveT(t, h)
	call(t, c, &wire.Request{Op: wire.OpTraceCreate, Create: &wire.CreateArgs{SubbufSize: 4096, NumSubbuf: 2, Mode: wire.ModeDiscard}})
	var fields []string
	for i := range 20 {
		fields = append(fields, fmt.Sprintf("u64 field_with_a_long_name_%02d", i))
	}
	builtin := len(h.table.Events())
	for i := builtin; i < MaxEventTypes; i++ {
		name := fmt.Sprintf("e%05d_%s", i, strings.Repeat("n", 100))
		decl := name + "()"
		if i < 600 {
			decl = name + "(" + strings.Join(fields, ", ") + ")"
		}
		if _, err := h.AddEvent(decl); err != nil {
			t.Fatalf("event type %d: %v", i, err)
		}
	}
	_, _, err := c.Call(&wire.Request{Op: wire.OpEventAdd, EventAdd: &wire.EventAddArgs{Decl: "one_more()"}})
	if !errors.Is(err, wire.ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(MaxEventTypes)) {
		t.Errorf("event type %d: %v, want too_large naming the cap", MaxEventTypes+1, err)
	}

	st := call(t, c, &wire.Request{Op: wire.OpStatus}).Status
	if st.EnabledCount != MaxEventTypes || len(st.EnabledEvents) == 0 || len(st.EnabledEvents) >= MaxEventTypes {
		t.Errorf("status: %d enabled, %d names listed; want %d enabled and a shorter list", st.EnabledCount, len(st.EnabledEvents), MaxEventTypes)
	}

	var ids []uint32
	pages := 0
	for from := uint32(0); ; pages++ {
		var req wire.Request
		req.Op = wire.OpEventList
		if from > 0 {
			req.EventList = &wire.EventListArgs{From: from}
		}
		rep := call(t, c, &req)
		for _, ev := range rep.Events {
			ids = append(ids, ev.ID)
		}
		if rep.NextEvent == 0 {
			break
		}
		if rep.NextEvent <= from {
			t.Fatalf("page from %d: next %d does not advance", from, rep.NextEvent)
		}
		from = rep.NextEvent
	}
	if len(ids) != MaxEventTypes || pages < 2 {
		t.Fatalf("event list: %d events in %d pages, want %d in several", len(ids), pages+1, MaxEventTypes)
	}
	for i, id := range ids {
		if id != uint32(i) {
			t.Fatalf("event list: id %d at %d", id, i)
		}
	}
}

// TestStatusFitsWithMaxCPUs: with the most pCPUs a hypervisor can have,
// status still answers, each reply fits a message, and the per-pCPU list
// comes whole in pages (wire.WholeStatus).
func TestStatusFitsWithMaxCPUs(t *testing.T) {
	const maxCPUs = 4096
	h := newTestHypervisor(t, Config{CPUs: 2, MaxCPUs: maxCPUs, Rate: 1})
	c := serveT(t, h)
	call(t, c, &wire.Request{Op: wire.OpTraceCreate, Create: &wire.CreateArgs{SubbufSize: 4096, NumSubbuf: 2, Mode: wire.ModeDiscard}})
	first := call(t, c, &wire.Request{Op: wire.OpStatus}).Status
	if first.NextCPU == 0 || len(first.PerCPU) == 0 || len(first.PerCPU) >= maxCPUs {
		t.Fatalf("first status page: %d pCPUs, next %d; want a part of %d", len(first.PerCPU), first.NextCPU, maxCPUs)
	}
	calls := 0
	st, err := wire.WholeStatus(func(req *wire.Request) (*wire.Reply, error) {
		calls++
		rep, files, err := c.Call(req)
		for _, f := range files {
			f.Close()
		}
		return rep, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.PerCPU) != maxCPUs || st.NextCPU != 0 || calls < 2 {
		t.Fatalf("whole status: %d pCPUs in %d calls (next %d), want %d", len(st.PerCPU), calls, st.NextCPU, maxCPUs)
	}
	for i, cs := range st.PerCPU {
		if cs.CPU != i || cs.Online != (i < 2) {
			t.Fatalf("pCPU entry %d: %+v", i, cs)
		}
	}
}
