package analysis

import (
	"cmp"
	"slices"

	"github.com/lttng-xen/lttng-xen/record"
)

// Summary is what "lttv-xen summary" reports, computed from the trace
// alone; its JSON form is the --json output.
type Summary struct {
	Trace      string      `json:"trace"`
	BeginNS    uint64      `json:"begin_ns"` // the window analysed, ns of the trace clock
	EndNS      uint64      `json:"end_ns"`
	DurationNS uint64      `json:"duration_ns"`
	Events     uint64      `json:"events"` // records in the window
	PCPUs      []PCPU      `json:"pcpus"`
	Domains    []Domain    `json:"domains"`
	Hypercalls []Hypercall `json:"hypercalls"`
	IRQs       []IRQ       `json:"irqs"`
	PageFaults []PageFault `json:"page_faults"`
	Lost       []Lost      `json:"lost"`
	// --salvage: what was skipped as damaged; the figures are those of
	// what could be read.
	SkippedBytes   int64  `json:"skipped_bytes"`
	SkippedPackets uint64 `json:"skipped_packets"`
}

// PCPU is one physical CPU's figures. BusyNS is the time it ran a vCPU of
// a domain other than the idle one, IdleNS the time it ran the idle
// domain, OfflineNS the time it was offline; UnknownNS is the rest, before
// its first sched_switch in the trace.
type PCPU struct {
	CPU           uint32 `json:"cpu"`
	Events        uint64 `json:"events"`
	SchedSwitches uint64 `json:"sched_switches"`
	BusyNS        uint64 `json:"busy_ns"`
	IdleNS        uint64 `json:"idle_ns"`
	OfflineNS     uint64 `json:"offline_ns"`
	UnknownNS     uint64 `json:"unknown_ns"`
}

// Domain is one domain's figures, the sums of its vCPUs' (wake-to-run
// latencies over all its vCPUs' wakeups).
type Domain struct {
	Domain uint16 `json:"domain"`
	VCPUFigures
	VCPUs []VCPU `json:"vcpus"`
}

// VCPU is one vCPU's figures.
type VCPU struct {
	VCPU uint16 `json:"vcpu"`
	VCPUFigures
}

// VCPUFigures are a vCPU's (or a domain's) times: RuntimeNS running on
// any pCPU (from sched_switch), Wakeups its vcpu_wake records, the
// latency from a vcpu_wake to the sched_switch that runs it, and
// BlockedNS from vcpu_block (or a sched_switch leaving it blocked) to the
// next vcpu_wake.
type VCPUFigures struct {
	RuntimeNS   uint64 `json:"runtime_ns"`
	Wakeups     uint64 `json:"wakeups"`
	WakeP50NS   uint64 `json:"wake_to_run_p50_ns"`
	WakeP99NS   uint64 `json:"wake_to_run_p99_ns"`
	WakeMaxNS   uint64 `json:"wake_to_run_max_ns"`
	BlockedNS   uint64 `json:"blocked_ns"`
	PageFaults  uint64 `json:"page_faults"`
	wake        latencies
	blockedFrom uint64
	blocked     bool
	wokeAt      uint64
	woken       bool
}

// Hypercall is one hypercall op's figures: Count entries, latencies from
// entry to exit on the same pCPU.
type Hypercall struct {
	Op    uint64 `json:"op"`
	Name  string `json:"name"` // Xen's name, "" for an op Xen does not define
	Count uint64 `json:"count"`
	P50NS uint64 `json:"p50_ns"`
	P99NS uint64 `json:"p99_ns"`
	MaxNS uint64 `json:"max_ns"`
	lat   latencies
}

// IRQ is one IRQ number and vector's figures: Count irq_entry records,
// handler times from entry to exit on the same pCPU.
type IRQ struct {
	IRQ    uint32 `json:"irq"`
	Vector uint8  `json:"vector"`
	Count  uint64 `json:"count"`
	P50NS  uint64 `json:"p50_ns"`
	P99NS  uint64 `json:"p99_ns"`
	MaxNS  uint64 `json:"max_ns"`
	lat    latencies
}

// PageFault counts one domain's page faults.
type PageFault struct {
	Domain uint16 `json:"domain"`
	Count  uint64 `json:"count"`
}

// Lost is the records one pCPU's stream lost (its buffer was full), over
// the whole trace (losses are counted per packet, not per window).
type Lost struct {
	CPU    uint32 `json:"cpu"`
	File   string `json:"file"`
	Events uint64 `json:"events_lost"`
}

type vcpuKey struct{ dom, vcpu uint16 }

type irqKey struct {
	irq    uint32
	vector uint8
}

// Summarizer computes a [Summary]: it is the [Handler] of a [Replayer].
type Summarizer struct {
	begin  uint64 // the window's
	kinds  map[*record.Event]kind
	events uint64
	pcpus  map[uint32]*PCPU
	vcpus  map[vcpuKey]*VCPUFigures
	calls  map[uint64]*Hypercall
	irqs   map[irqKey]*IRQ
	faults map[uint16]uint64
}

// NewSummarizer returns an empty Summarizer.
func NewSummarizer() *Summarizer {
	return &Summarizer{
		kinds: make(map[*record.Event]kind), pcpus: make(map[uint32]*PCPU), vcpus: make(map[vcpuKey]*VCPUFigures),
		calls: make(map[uint64]*Hypercall), irqs: make(map[irqKey]*IRQ), faults: make(map[uint16]uint64),
	}
}

func (s *Summarizer) pcpu(id uint32) *PCPU {
	p := s.pcpus[id]
	if p == nil {
		p = &PCPU{CPU: id}
		s.pcpus[id] = p
	}
	return p
}

func (s *Summarizer) vcpu(dom, vcpu uint16) *VCPUFigures {
	k := vcpuKey{dom, vcpu}
	v := s.vcpus[k]
	if v == nil {
		v = &VCPUFigures{}
		s.vcpus[k] = v
	}
	return v
}

// Start implements [Handler].
func (s *Summarizer) Start(begin, end uint64) { s.begin = begin }

// Record implements [Handler]. Before the window it only follows which
// vCPUs are blocked or woken.
func (s *Summarizer) Record(rec *record.Record, t uint64) {
	in := t >= s.begin
	k, ok := s.kinds[rec.Event]
	if !ok {
		k = kindOf(rec.Event)
		s.kinds[rec.Event] = k
	}
	if in {
		s.events++
		s.pcpu(rec.CPU).Events++
	}
	v := func(i int) uint64 { return rec.Values[k.f[i]].U }
	switch k.id {
	case kSwitch:
		if int8(v(2)) == 1 { // the previous vCPU is left blocked
			s.block(s.vcpu(uint16(v(0)), uint16(v(1))), t)
		}
		next := s.vcpu(uint16(v(3)), uint16(v(4)))
		if in {
			s.pcpu(rec.CPU).SchedSwitches++
			if next.woken {
				next.wake.add(t - next.wokeAt)
			}
		}
		next.woken = false
	case kWake:
		f := s.vcpu(uint16(v(0)), uint16(v(1)))
		if f.blocked {
			f.BlockedNS += t - max(f.blockedFrom, min(s.begin, t))
			f.blocked = false
		}
		if !f.woken {
			f.woken, f.wokeAt = true, t
		}
		if in {
			f.Wakeups++
		}
	case kBlock:
		s.block(s.vcpu(uint16(v(0)), uint16(v(1))), t)
	case kCallEntry:
		if in {
			s.call(v(0)).Count++
		}
	case kIRQEntry:
		if in {
			s.irq(uint32(v(0)), uint8(v(1))).Count++
		}
	case kPageFault:
		if in {
			s.faults[uint16(v(0))]++
			s.vcpu(uint16(v(0)), uint16(v(1))).PageFaults++
		}
	}
}

func (s *Summarizer) block(f *VCPUFigures, t uint64) {
	if !f.blocked {
		f.blocked, f.blockedFrom = true, t
	}
}

func (s *Summarizer) call(op uint64) *Hypercall {
	h := s.calls[op]
	if h == nil {
		h = &Hypercall{Op: op, Name: HypercallName(op)}
		s.calls[op] = h
	}
	return h
}

func (s *Summarizer) irq(irq uint32, vector uint8) *IRQ {
	k := irqKey{irq, vector}
	h := s.irqs[k]
	if h == nil {
		h = &IRQ{IRQ: irq, Vector: vector}
		s.irqs[k] = h
	}
	return h
}

// Run implements [Handler].
func (s *Summarizer) Run(cpu uint32, dom, vcpu uint16, b, e uint64) {
	p := s.pcpu(cpu)
	if dom == IdleDomain {
		p.IdleNS += e - b
		return
	}
	p.BusyNS += e - b
	s.vcpu(dom, vcpu).RuntimeNS += e - b
}

// Call implements [Handler].
func (s *Summarizer) Call(cpu uint32, op uint64, b, e uint64) { s.call(op).lat.add(e - b) }

// IRQ implements [Handler].
func (s *Summarizer) IRQ(cpu uint32, irq uint32, vector uint8, b, e uint64) {
	s.irq(irq, vector).lat.add(e - b)
}

// Offline implements [Handler].
func (s *Summarizer) Offline(cpu uint32, b, e uint64) { s.pcpu(cpu).OfflineNS += e - b }

// Summary returns the figures, for the window [begin, end) a
// [Replayer.Finish] returned, with the streams' losses and what was
// skipped (totals of a [record.Merger]).
func (s *Summarizer) Summary(trace string, begin, end uint64, streams []record.StreamTotals) Summary {
	sum := Summary{
		Trace: trace, BeginNS: begin, EndNS: end, DurationNS: end - begin, Events: s.events,
		PCPUs: []PCPU{}, Domains: []Domain{}, Hypercalls: []Hypercall{}, IRQs: []IRQ{}, PageFaults: []PageFault{}, Lost: []Lost{},
	}
	for _, p := range s.pcpus {
		p.UnknownNS = sum.DurationNS - min(sum.DurationNS, p.BusyNS+p.IdleNS+p.OfflineNS)
		sum.PCPUs = append(sum.PCPUs, *p)
	}
	slices.SortFunc(sum.PCPUs, func(a, b PCPU) int { return cmp.Compare(a.CPU, b.CPU) })

	doms := make(map[uint16]*Domain)
	for k, f := range s.vcpus {
		if k.dom == IdleDomain {
			continue
		}
		if f.blocked {
			f.BlockedNS += end - min(end, max(f.blockedFrom, begin))
		}
		f.WakeP50NS, f.WakeP99NS, f.WakeMaxNS = f.wake.percentiles()
		d := doms[k.dom]
		if d == nil {
			d = &Domain{Domain: k.dom}
			doms[k.dom] = d
		}
		d.RuntimeNS += f.RuntimeNS
		d.Wakeups += f.Wakeups
		d.BlockedNS += f.BlockedNS
		d.PageFaults += f.PageFaults
		d.wake.v = append(d.wake.v, f.wake.v...)
		d.VCPUs = append(d.VCPUs, VCPU{VCPU: k.vcpu, VCPUFigures: VCPUFigures{
			RuntimeNS: f.RuntimeNS, Wakeups: f.Wakeups, WakeP50NS: f.WakeP50NS, WakeP99NS: f.WakeP99NS, WakeMaxNS: f.WakeMaxNS,
			BlockedNS: f.BlockedNS, PageFaults: f.PageFaults,
		}})
	}
	for _, d := range doms {
		d.WakeP50NS, d.WakeP99NS, d.WakeMaxNS = d.wake.percentiles()
		d.wake = latencies{}
		slices.SortFunc(d.VCPUs, func(a, b VCPU) int { return cmp.Compare(a.VCPU, b.VCPU) })
		sum.Domains = append(sum.Domains, *d)
	}
	slices.SortFunc(sum.Domains, func(a, b Domain) int { return cmp.Compare(a.Domain, b.Domain) })

	for _, h := range s.calls {
		h.P50NS, h.P99NS, h.MaxNS = h.lat.percentiles()
		h.lat = latencies{}
		sum.Hypercalls = append(sum.Hypercalls, *h)
	}
	slices.SortFunc(sum.Hypercalls, func(a, b Hypercall) int { return cmp.Compare(a.Op, b.Op) })
	for _, h := range s.irqs {
		h.P50NS, h.P99NS, h.MaxNS = h.lat.percentiles()
		h.lat = latencies{}
		sum.IRQs = append(sum.IRQs, *h)
	}
	slices.SortFunc(sum.IRQs, func(a, b IRQ) int { return cmp.Or(cmp.Compare(a.IRQ, b.IRQ), cmp.Compare(a.Vector, b.Vector)) })
	for dom, n := range s.faults {
		sum.PageFaults = append(sum.PageFaults, PageFault{Domain: dom, Count: n})
	}
	slices.SortFunc(sum.PageFaults, func(a, b PageFault) int { return cmp.Compare(a.Domain, b.Domain) })
	for _, st := range streams {
		sum.SkippedBytes += st.SkippedBytes
		sum.SkippedPackets += st.SkippedPackets
		if st.HasCPU {
			sum.Lost = append(sum.Lost, Lost{CPU: st.CPU, File: st.File, Events: st.Discarded})
		}
	}
	return sum
}
