package hypervisor

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestHypervisor(t *testing.T, cfg Config) *Hypervisor {
	t.Helper()
	cfg.Logger = quietLogger()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func geom(size, n uint64) TraceConfig {
	return TraceConfig{Geometry: shm.Geometry{SubbufSize: size, NumSubbuf: n}}
}

func TestLifecycleErrors(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 1, Rate: 1000})
	for _, tc := range []struct {
		name string
		call func() error
		want error
		code error
	}{
		{"start before create", h.Start, ErrNoTrace, wire.ErrNoTrace},
		{"stop before create", h.Stop, ErrNoTrace, wire.ErrNoTrace},
		{"destroy before create", h.Destroy, ErrNoTrace, wire.ErrNoTrace},
		{"map before create", func() error { _, _, err := h.Map("x", wire.MapArgs{Role: wire.RoleConsumer, PID: 1}); return err }, ErrNoTrace, wire.ErrNoTrace},
		{"create", func() error { return h.Create(geom(4096, 4)) }, nil, nil},
		{"create twice", func() error { return h.Create(geom(4096, 4)) }, ErrTraceExists, wire.ErrExists},
		{"stop when created", h.Stop, ErrBadState, wire.ErrBadState},
		{"start", h.Start, nil, nil},
		{"start twice", h.Start, ErrBadState, wire.ErrBadState},
		{"stop", h.Stop, nil, nil},
		{"stop twice", h.Stop, ErrBadState, wire.ErrBadState},
		{"unmap unknown", func() error { return h.Unmap("x", 42) }, ErrBadMap, wire.ErrNotFound},
		{"destroy", h.Destroy, nil, nil},
		{"destroy twice", h.Destroy, ErrNoTrace, wire.ErrNoTrace},
	} {
		err := tc.call()
		if !errors.Is(err, tc.want) || (tc.code != nil && !errors.Is(err, tc.code)) {
			t.Errorf("%s: err = %v, want %v (%v)", tc.name, err, tc.want, tc.code)
		}
		if tc.want == nil && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestRefcount(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 1})
	if err := h.Create(geom(4096, 2)); err != nil {
		t.Fatal(err)
	}
	if rc := h.Status().Refcount; rc != 1 {
		t.Fatalf("refcount after create %d", rc)
	}
	id, _, err := h.Map("reader", wire.MapArgs{Role: wire.RoleConsumer, PID: 41, Output: "/tmp/t"})
	if err != nil {
		t.Fatal(err)
	}
	if st := h.Status(); st.Refcount != 2 || st.ConsumerPID != 41 || st.ConsumerOutput != "/tmp/t" {
		t.Fatalf("after map: refcount %d, consumer pid %d output %q", st.Refcount, st.ConsumerPID, st.ConsumerOutput)
	}
	// One consumer per trace: a second is refused, naming the holder; an
	// observer is not a consumer.
	if _, _, err := h.Map("second", wire.MapArgs{Role: wire.RoleConsumer, PID: 42}); !errors.Is(err, wire.ErrBusy) || !strings.Contains(err.Error(), "pid 41") {
		t.Errorf("second consumer: %v, want busy naming pid 41", err)
	}
	obs, _, err := h.Map("observer", wire.MapArgs{Role: wire.RoleObserver, PID: 43})
	if err != nil {
		t.Fatalf("observer: %v", err)
	}
	if err := h.Unmap("observer", obs); err != nil {
		t.Fatal(err)
	}
	if err := h.Unmap("someone else", id); !errors.Is(err, ErrBadMap) {
		t.Errorf("unmap by another owner: %v", err)
	}
	tr := h.trace
	if err := h.Destroy(); err != nil {
		t.Fatal(err)
	}
	if tr.refcount != 1 || tr.ctrl.Data == nil {
		t.Fatalf("destroyed trace with a live mapping: refcount %d, memory released %v", tr.refcount, tr.ctrl.Data == nil)
	}
	h.Disconnect("reader") // the reader's connection goes away
	if tr.refcount != 0 || tr.ctrl.Data != nil {
		t.Fatalf("after the last mapping: refcount %d, memory still held %v", tr.refcount, tr.ctrl.Data != nil)
	}
}

// collector consumes a trace in the background, like lttd-xen, into dir.
type collector struct {
	dir  string
	done chan error
	stop chan struct{}
}

func collect(t *testing.T, h *Hypervisor) *collector {
	t.Helper()
	tr := h.trace
	cons, err := shm.NewConsumer(tr.ctrl.Data, tr.cons.Data, tr.buf.Data)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{dir: t.TempDir(), done: make(chan error, 1), stop: make(chan struct{})}
	var outs []*os.File
	for cpu := range cons.Streams() {
		out, err := os.Create(filepath.Join(c.dir, fmt.Sprintf("channel0_%d", cpu)))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	go func() {
		defer func() {
			for _, out := range outs {
				out.Close()
			}
		}()
		buf := make([]byte, 8)
		for {
			state := cons.Control().State()
			for cpu, out := range outs {
				s := cons.Stream(cpu)
				for {
					p, _, ok := s.Next()
					if !ok {
						break
					}
					if _, err := out.Write(p); err != nil {
						c.done <- err
						return
					}
					s.Release()
				}
			}
			if state == shm.StateStopped || state == shm.StateDestroyed {
				c.done <- nil
				return
			}
			// Wait for the VIRQ; a short read timeout keeps a lost test
			// from hanging forever.
			pfd := []unix.PollFd{{Fd: int32(h.virq.fd), Events: unix.POLLIN}}
			unix.Poll(pfd, 1000)
			unix.Read(h.virq.fd, buf)
		}
	}()
	return c
}

// finish waits for the collector and writes the metadata next to the stream.
func (c *collector) finish(t *testing.T, h *Hypervisor) *record.Trace {
	t.Helper()
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("collector did not finish")
	}
	f, _, err := h.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "metadata"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := record.OpenTrace(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func records(t *testing.T, tr *record.Trace) []record.Record {
	t.Helper()
	var out []record.Record
	for r, err := range tr.Records() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestHotplugMarksTheGap(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 2, MaxCPUs: 3, Rate: 20000})
	if err := h.Create(geom(64<<10, 16)); err != nil {
		t.Fatal(err)
	}
	c := collect(t, h)
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		call func() error
		want error
	}{
		{"online an online pCPU", func() error { return h.CPUOnline(0) }, ErrBadState},
		{"offline a missing pCPU", func() error { return h.CPUOffline(7) }, wire.ErrNotFound},
		{"online pCPU 2", func() error { return h.CPUOnline(2) }, nil},
		{"offline pCPU 1", func() error { return h.CPUOffline(1) }, nil},
		{"offline pCPU 2", func() error { return h.CPUOffline(2) }, nil},
		{"offline the last", func() error { return h.CPUOffline(0) }, ErrBadState},
		{"online pCPU 1", func() error { return h.CPUOnline(1) }, nil},
	}
	for _, s := range steps {
		time.Sleep(50 * time.Millisecond)
		if err := s.call(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	if got := h.Status().CPUsOnline; len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("cpus_online = %v, want [0 1]", got)
	}
	time.Sleep(50 * time.Millisecond)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	offline := map[uint32]bool{2: true} // pCPU 2 starts offline
	counts := map[uint32]int{}
	for _, r := range records(t, c.finish(t, h)) {
		switch r.Name() {
		case "cpu_offline":
			offline[r.CPU] = true
		case "cpu_online":
			offline[r.CPU] = false
		default:
			if offline[r.CPU] {
				t.Fatalf("pCPU %d wrote %s while offline", r.CPU, r.Name())
			}
		}
		counts[r.CPU]++
	}
	if counts[1] == 0 || counts[2] == 0 {
		t.Errorf("records per pCPU: %v", counts)
	}
}

func TestFilterAndEmit(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 2, Rate: 20000})
	if err := h.Create(TraceConfig{Geometry: shm.Geometry{SubbufSize: 64 << 10, NumSubbuf: 16}, Events: []string{"timer", "irq_*"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Create(TraceConfig{Geometry: shm.Geometry{SubbufSize: 4096, NumSubbuf: 2}, Events: []string{"nosuch*"}}); !errors.Is(err, ErrTraceExists) {
		t.Fatalf("second create: %v", err)
	}
	if got := h.Status().EnabledEvents; len(got) != 5 {
		t.Errorf("enabled events %v, want timer, irq_entry, irq_exit and the hotplug markers", got)
	}
	if _, err := h.AddEvent("probe(u32 a, s64 b, string msg)"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddEvent("probe(u8 x)"); !errors.Is(err, wire.ErrExists) {
		t.Errorf("duplicate event: %v", err)
	}
	if _, err := h.AddEvent("bad name(u8 x)"); !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("bad declaration: %v", err)
	}
	c := collect(t, h)
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.SetEvents(true, []string{"nosuch*"}); !errors.Is(err, wire.ErrNotFound) {
		t.Errorf("glob matching nothing: %v", err)
	}
	fields := map[string]string{"a": "7", "b": "-9", "msg": "hello"}
	if err := h.Emit(1, "probe", fields); !errors.Is(err, wire.ErrEventDisabled) {
		t.Errorf("emit of a disabled event: %v", err)
	}
	if err := h.SetEvents(true, []string{"probe"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cpu    int
		name   string
		fields map[string]string
		want   error
	}{
		{1, "probe", fields, nil},
		{0, "probe", map[string]string{"a": "1", "b": "2"}, wire.ErrBadRequest},                      // missing msg
		{0, "probe", map[string]string{"a": "1", "b": "2", "msg": "", "z": "1"}, wire.ErrBadRequest}, // unknown field
		{0, "probe", map[string]string{"a": "4294967296", "b": "2", "msg": ""}, wire.ErrBadRequest},  // out of range
		{0, "nosuch", fields, wire.ErrNotFound},
		{9, "probe", fields, wire.ErrNotFound},
	} {
		if err := h.Emit(tc.cpu, tc.name, tc.fields); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("emit %s on %d %v: %v, want %v", tc.name, tc.cpu, tc.fields, err, tc.want)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if err := h.SetEvents(false, []string{"timer"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	st := h.Status()
	if st.EventsLost != 0 {
		t.Errorf("filtering counted %d lost", st.EventsLost)
	}
	recs := records(t, c.finish(t, h))
	if uint64(len(recs)) != st.EventsWritten {
		t.Errorf("decoded %d records, status says %d written", len(recs), st.EventsWritten)
	}
	probes := 0
	for _, r := range recs {
		switch r.Name() {
		case "probe":
			probes++
			if r.CPU != 1 || r.Values[0].U != 7 || r.Values[1].Int() != -9 || r.Values[2].S != "hello" {
				t.Errorf("probe record %v", r)
			}
		case "timer", "irq_entry", "irq_exit":
		default:
			t.Errorf("disabled event %s was recorded", r.Name())
		}
	}
	if probes != 1 {
		t.Errorf("%d probe records, want 1", probes)
	}
}
