package hypervisor

import (
	"crypto/rand"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// TraceConfig is what trace_create asks for.
type TraceConfig struct {
	Geometry    shm.Geometry
	Mode        shm.Mode
	SwitchTimer time.Duration
	Events      []string // globs of events to enable; empty: all
	Name        string   // the session's name (session.go)
	CPUs        []int    // the workload's pCPUs, sorted; empty: all (session.go)
}

// Trace is one trace channel and its memory. Fields written after creation
// are guarded by Hypervisor.mu except where marked atomic.
type Trace struct {
	cfg     TraceConfig
	uuid    [16]byte
	ctrl    *shm.Mapping // read-write control page (also handed out)
	buf     *shm.Mapping // the producer's read-write mapping
	bufRO   *os.File     // read-only re-open handed to consumers
	ch      *shm.Channel
	created time.Time
	info    record.TraceInfo

	state    string // wire state name: created, started, stopped
	refcount int    // the hypervisor's own reference + live mappings
	zombie   bool   // destroyed, waiting for its last mapping to go

	// enabled is the write path's switch: pCPUs write only while it is set.
	enabled atomic.Bool
	// mask is the set of enabled event ids (the write path's one check per
	// event; nil: all enabled); rules are the requests it is computed from
	// (under h.mu).
	mask  atomic.Pointer[eventMask]
	rules []filterRule
	// stop is closed when tracing stops, to wake pCPUs sleeping in their
	// rate pacing.
	stop chan struct{}
	// written[cpu] is the count of records pCPU cpu committed, published
	// by the pCPU after each batch.
	written []paddedCounter
	// emitted counts records written on behalf of pCPUs by hypercalls
	// (emit, cpu_online, cpu_offline).
	emitted atomic.Uint64
	// timerDone stops the switch-timer goroutine.
	timerDone chan struct{}
}

type paddedCounter struct {
	v atomic.Uint64
	_ [56]byte
}

// newTrace allocates the memfds and initialises the channel. deliver is
// the VIRQ hook.
func newTrace(cfg TraceConfig, maxCPUs int, clock func() uint64, deliver func(uint64)) (t *Trace, err error) {
	if err := cfg.Geometry.Validate(); err != nil {
		return nil, err
	}
	t = &Trace{cfg: cfg, state: "created", refcount: 1, created: time.Now(), written: make([]paddedCounter, maxCPUs)}
	if _, err := rand.Read(t.uuid[:]); err != nil {
		return nil, fmt.Errorf("trace uuid: %w", err)
	}
	defer func() {
		if err != nil {
			t.release()
		}
	}()
	page := os.Getpagesize()
	if t.ctrl, err = shm.CreateControl("lttng-xen-control", shm.ControlSize(cfg.Geometry.NumSubbuf, page)); err != nil {
		return nil, err
	}
	if t.buf, t.bufRO, err = shm.CreateBuffer("lttng-xen-buffer", int(cfg.Geometry.Total())); err != nil {
		return nil, err
	}
	uuid := t.uuid
	t.ch, err = shm.NewChannel(t.ctrl.Data, t.buf.Data, shm.Config{
		Geometry:   cfg.Geometry,
		Mode:       cfg.Mode,
		UUID:       uuid,
		PageSize:   page,
		HeaderSize: record.PacketHeaderSize,
		Clock:      clock,
		OpenPacket: func(pkt []byte, seq, ts uint64) {
			record.OpenPacket(pkt, uuid, 0, seq, ts)
		},
		ClosePacket: record.ClosePacket,
		Deliver:     deliver,
	})
	if err != nil {
		return nil, err
	}
	t.ch.Control().SetState(shm.StateCreated)
	return t, nil
}

// release unmaps and closes the producer's side of the memory. Consumers'
// mappings stay valid: the kernel frees the pages with the last mapping.
func (t *Trace) release() {
	if t.ctrl != nil {
		t.ctrl.Close()
	}
	if t.buf != nil {
		t.buf.Close()
	}
	if t.bufRO != nil {
		t.bufRO.Close()
	}
}

func (t *Trace) eventsWritten() uint64 {
	var n uint64
	for i := range t.written {
		n += t.written[i].v.Load()
	}
	return n + t.emitted.Load()
}
