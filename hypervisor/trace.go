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

// Trace is one trace channel and its memory: one ring and one CTF stream
// per pCPU. Fields written after creation are guarded by Hypervisor.mu
// except where marked atomic.
type Trace struct {
	cfg     TraceConfig
	uuid    [16]byte
	ctrl    *shm.Mapping // the producer's read-write mapping of the control region
	ctrlRO  *os.File     // its read-only re-open, handed to every mapper
	cons    *shm.Mapping // the consumer region (consumed offsets), read by the rings
	consRO  *os.File     // its read-only re-open, handed to observers
	buf     *shm.Mapping // the producer's read-write mapping of the rings
	bufRO   *os.File     // read-only re-open handed to mappers
	ch      *shm.Channel
	created time.Time
	info    record.TraceInfo

	state    shm.State
	refcount int  // the hypervisor's own reference + live mappings
	zombie   bool // destroyed, waiting for its last mapping to go
	// consumer is the id of the mapping that holds the consumer role (0:
	// none), consumerPID the process that asked for it.
	consumer       uint64
	consumerPID    int
	consumerOutput string // where it said it sends the trace

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
	// emitted[cpu] counts records written on behalf of pCPU cpu by
	// hypercalls (emit, cpu_online, cpu_offline).
	emitted []paddedCounter
	// timerDone stops the switch-timer goroutine.
	timerDone chan struct{}
}

type paddedCounter struct {
	v atomic.Uint64
	_ [56]byte
}

// newTrace allocates the memfds and initialises the channel: one ring per
// pCPU id. deliver is the VIRQ hook.
func newTrace(cfg TraceConfig, maxCPUs int, clock func() uint64, deliver func(uint32, uint64)) (t *Trace, err error) {
	if err := cfg.Geometry.Validate(); err != nil {
		return nil, err
	}
	t = &Trace{
		cfg: cfg, state: shm.StateCreated, refcount: 1, created: time.Now(),
		written: make([]paddedCounter, maxCPUs), emitted: make([]paddedCounter, maxCPUs),
	}
	if _, err := rand.Read(t.uuid[:]); err != nil {
		return nil, fmt.Errorf("trace uuid: %w", err)
	}
	defer func() {
		if err != nil {
			t.release()
		}
	}()
	page := os.Getpagesize()
	if t.ctrl, t.ctrlRO, err = shm.CreateProducer("lttng-xen-control", shm.ControlSize(maxCPUs, cfg.Geometry.NumSubbuf, page)); err != nil {
		return nil, err
	}
	if t.cons, t.consRO, err = shm.CreateConsumer("lttng-xen-consumer", shm.ConsumerSize(maxCPUs, page)); err != nil {
		return nil, err
	}
	// The rings of pCPUs that never come online are never written: their
	// pages of the memfd are never allocated.
	if t.buf, t.bufRO, err = shm.CreateProducer("lttng-xen-buffer", maxCPUs*int(cfg.Geometry.Total())); err != nil {
		return nil, err
	}
	uuid := t.uuid
	t.ch, err = shm.NewChannel(t.ctrl.Data, t.cons.Data, t.buf.Data, shm.Config{
		Geometry:   cfg.Geometry,
		Mode:       cfg.Mode,
		UUID:       uuid,
		PageSize:   page,
		CPUs:       maxCPUs,
		HeaderSize: record.PacketHeaderSize,
		Clock:      clock,
		OpenPacket: func(pkt []byte, cpu uint32, seq, ts uint64) {
			record.OpenPacket(pkt, uuid, 0, cpu, seq, ts)
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
	for _, m := range []*shm.Mapping{t.ctrl, t.cons, t.buf} {
		if m != nil {
			m.Close()
		}
	}
	for _, f := range []*os.File{t.ctrlRO, t.consRO, t.bufRO} {
		if f != nil {
			f.Close()
		}
	}
}

// setState publishes a new trace state. Under h.mu.
func (t *Trace) setState(s shm.State) {
	t.state = s
	t.ch.Control().SetState(s)
}

// cpuWritten is the count of records committed to pCPU cpu's ring.
func (t *Trace) cpuWritten(cpu int) uint64 {
	return t.written[cpu].v.Load() + t.emitted[cpu].v.Load()
}

func (t *Trace) eventsWritten() uint64 {
	var n uint64
	for cpu := range t.written {
		n += t.cpuWritten(cpu)
	}
	return n
}
