package analysis

import (
	"github.com/lttng-xen/lttng-xen/record"
)

// Handler receives what a [Replayer] reconstructs. Times are ns of the
// trace clock.
type Handler interface {
	// Start is called once, before anything else, with the window: [begin,
	// end) in ns (end math.MaxUint64 when it has none).
	Start(begin, end uint64)
	// Record is called with each record up to the window's end, and its
	// time: those before begin too, for the state they set up (what is
	// blocked when the window opens); t < begin tells them apart.
	Record(rec *record.Record, t uint64)
	// Run: vCPU vcpu of domain dom ran on pCPU cpu over [b, e), clipped
	// to the window (from a sched_switch to the next one on cpu, its
	// cpu_offline, or the window's end).
	Run(cpu uint32, dom, vcpu uint16, b, e uint64)
	// Call: hypercall op ran on cpu from its entry at b to its exit at e
	// (not clipped: e - b is its latency). Called for the hypercalls that
	// exit in the window.
	Call(cpu uint32, op uint64, b, e uint64)
	// IRQ: irq (vector) was handled on cpu from b to e, as Call.
	IRQ(cpu uint32, irq uint32, vector uint8, b, e uint64)
	// Offline: cpu was offline over [b, e), clipped to the window (from
	// cpu_offline to cpu_online, or to the window's end).
	Offline(cpu uint32, b, e uint64)
}

// Replayer replays records, in timestamp order, into a [Handler]'s
// intervals. Create it with [NewReplayer], give it every record with
// [Replayer.Add], then call [Replayer.Finish].
type Replayer struct {
	info  record.TraceInfo
	win   Window
	h     Handler
	span  span
	first bool   // a record has been seen
	last  uint64 // time of the last record added
	past  bool   // a record after the window's end was seen
	cpus  map[uint32]*cpuState
	kinds map[*record.Event]kind
}

// cpuState is what a Replayer knows of one pCPU.
type cpuState struct {
	running   bool // a vCPU is known to run
	dom, vcpu uint16
	since     uint64
	inCall    bool
	op        uint64
	callSince uint64
	inIRQ     bool
	irq       uint32
	vector    uint8
	irqSince  uint64
	offline   bool
	offSince  uint64
}

// NewReplayer returns a Replayer of a trace described by info, over win,
// reporting to h.
func NewReplayer(info record.TraceInfo, win Window, h Handler) *Replayer {
	return &Replayer{info: info, win: win, h: h, cpus: make(map[uint32]*cpuState), kinds: make(map[*record.Event]kind)}
}

// Add replays one record. Records must come in timestamp order. It
// returns false once a record is past the window's end: the rest of the
// trace need not be read.
func (p *Replayer) Add(rec *record.Record) bool {
	t := p.info.NS(rec.Timestamp)
	if !p.first {
		p.first = true
		p.span = p.win.resolve(t)
		p.h.Start(p.span.begin, p.span.end)
	}
	if t >= p.span.end {
		p.past = true
		return false
	}
	p.last = t
	p.h.Record(rec, t)
	k, ok := p.kinds[rec.Event]
	if !ok {
		k = kindOf(rec.Event)
		p.kinds[rec.Event] = k
	}
	if k.id == kOther {
		return true
	}
	v := func(i int) uint64 { return rec.Values[k.f[i]].U }
	c := p.cpu(rec.CPU)
	switch k.id {
	case kSwitch:
		p.endRun(rec.CPU, c, t)
		c.running, c.dom, c.vcpu, c.since = true, uint16(v(3)), uint16(v(4)), t
	case kCallEntry:
		c.inCall, c.op, c.callSince = true, v(0), t
	case kCallExit:
		if c.inCall && c.op == v(0) && t >= p.span.begin {
			p.h.Call(rec.CPU, c.op, c.callSince, t)
		}
		c.inCall = false
	case kIRQEntry:
		c.inIRQ, c.irq, c.vector, c.irqSince = true, uint32(v(0)), uint8(v(1)), t
	case kIRQExit:
		if c.inIRQ && c.irq == uint32(v(0)) && t >= p.span.begin {
			p.h.IRQ(rec.CPU, c.irq, c.vector, c.irqSince, t)
		}
		c.inIRQ = false
	case kOffline:
		cpu := uint32(v(0))
		o := p.cpu(cpu)
		p.endRun(cpu, o, t)
		o.inCall, o.inIRQ = false, false
		if !o.offline {
			o.offline, o.offSince = true, t
		}
	case kOnline:
		cpu := uint32(v(0))
		o := p.cpu(cpu)
		if o.offline {
			p.endOffline(cpu, o, t)
		}
	}
	return true
}

// InWindow reports whether a record with timestamp ts (cycles of the trace
// clock) is in the window; valid once a record has been added.
func (p *Replayer) InWindow(ts uint64) bool { return p.first && p.span.contains(p.info.NS(ts)) }

func (p *Replayer) cpu(id uint32) *cpuState {
	c := p.cpus[id]
	if c == nil {
		c = &cpuState{}
		p.cpus[id] = c
	}
	return c
}

// endRun ends the run of whatever is running on c at t.
func (p *Replayer) endRun(id uint32, c *cpuState, t uint64) {
	if !c.running {
		return
	}
	c.running = false
	if b, e, ok := p.span.clip(c.since, t); ok {
		p.h.Run(id, c.dom, c.vcpu, b, e)
	}
}

func (p *Replayer) endOffline(id uint32, c *cpuState, t uint64) {
	c.offline = false
	if b, e, ok := p.span.clip(c.offSince, t); ok {
		p.h.Offline(id, b, e)
	}
}

// Finish ends the runs and offline periods still open, at the window's
// end if the trace goes past it, else at the last record, and returns the
// span analysed: [begin, end) in ns (begin = end when the window holds no
// time of the trace; ok = false when there was no record at all).
func (p *Replayer) Finish() (begin, end uint64, ok bool) {
	if !p.first {
		return 0, 0, false
	}
	at := p.last
	if p.past {
		at = p.span.end
	}
	for id, c := range p.cpus {
		p.endRun(id, c, at)
		if c.offline {
			p.endOffline(id, c, at)
		}
	}
	return p.span.begin, max(p.span.begin, at), true
}
