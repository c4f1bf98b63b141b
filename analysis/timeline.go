package analysis

import (
	"slices"

	"github.com/lttng-xen/lttng-xen/record"
)

// Timeline collects what the timeline page draws: per pCPU, the vCPU runs,
// offline periods, lost-record gaps, and marks for hypercalls, IRQs and
// page faults. It is the [Handler] of a [Replayer]; [Timeline.Data] then
// returns the page's data, aggregated so that a trace of any size gives a
// page of bounded size (see [Limits]).
type Timeline struct {
	lim        Limits
	begin, end uint64
	who        []Who
	whoIndex   map[vcpuKey]int
	lanes      map[uint32]*lane
	kinds      map[*record.Event]kind
	// Marks are kept one by one up to lim.Marks; past that, as counts per
	// lane, kind and bin of binW ns (dense), the bins doubling in width
	// whenever the trace outgrows 2×lim.Bins of them, so that memory stays
	// bounded however long the trace.
	nMarks int
	dense  bool
	binW   uint64
	ops    map[uint64]bool // hypercall ops seen
}

// Who is a vCPU that ran, as the page names and colours it.
type Who struct {
	Label  string `json:"label"` // "d1v0", "idle"
	Domain uint16 `json:"dom"`
	VCPU   uint16 `json:"vcpu"`
}

// lane is one pCPU's collected intervals, times in ns from the window's
// start.
type lane struct {
	runs    []run
	marks   []mark
	density [numMarkKinds][]uint32 // dense mode: marks per bin of binW
	offline [][2]uint64
	lost    []lostGap
}

type run struct {
	b, e uint64
	who  int
}

// Mark kinds, the indices of [TimelineData.Kinds].
const (
	MarkHypercall = iota
	MarkIRQ
	MarkPageFault
	numMarkKinds
)

type mark struct {
	t, dur uint64
	kind   uint8
	arg    uint64 // hypercall op, irq number, fault address
	arg2   uint64 // irq vector; page fault domain<<16 | vcpu
}

type lostGap struct{ b, e, count uint64 }

// NewTimeline returns an empty Timeline whose page will hold at most what
// lim allows.
func NewTimeline(lim Limits) *Timeline {
	return &Timeline{lim: lim, ops: make(map[uint64]bool), whoIndex: make(map[vcpuKey]int), lanes: make(map[uint32]*lane), kinds: make(map[*record.Event]kind)}
}

// addMark adds m to cpu's lane: one by one, or counted in its bin once
// there are too many.
func (tl *Timeline) addMark(cpu uint32, m mark) {
	l := tl.lane(cpu)
	if !tl.dense {
		l.marks = append(l.marks, m)
		if tl.nMarks++; tl.nMarks > tl.lim.Marks {
			tl.densify()
		}
		return
	}
	tl.count(l, m)
}

// densify turns every lane's marks into counts per bin.
func (tl *Timeline) densify() {
	var last uint64
	for _, l := range tl.lanes {
		for _, m := range l.marks {
			last = max(last, m.t)
		}
	}
	tl.dense = true
	tl.binW = max(1, (last+1+uint64(tl.lim.Bins)-1)/uint64(tl.lim.Bins))
	for _, l := range tl.lanes {
		for _, m := range l.marks {
			tl.count(l, m)
		}
		l.marks = nil
	}
}

// count counts m in its bin, doubling the bins' width while m is past
// 2×lim.Bins of them.
func (tl *Timeline) count(l *lane, m mark) {
	i := m.t / tl.binW
	for i >= 2*uint64(tl.lim.Bins) {
		tl.binW *= 2
		i /= 2
		for _, ll := range tl.lanes {
			for k, d := range ll.density {
				for j := range d {
					if j%2 == 0 {
						d[j/2] = d[j]
					} else {
						d[j/2] += d[j]
					}
				}
				ll.density[k] = d[:(len(d)+1)/2]
			}
		}
	}
	d := l.density[m.kind]
	if int(i) >= len(d) {
		d = append(d, make([]uint32, int(i)+1-len(d))...)
	}
	d[i]++
	l.density[m.kind] = d
}

func (tl *Timeline) lane(cpu uint32) *lane {
	l := tl.lanes[cpu]
	if l == nil {
		l = &lane{}
		tl.lanes[cpu] = l
	}
	return l
}

// Start implements [Handler].
func (tl *Timeline) Start(begin, end uint64) { tl.begin, tl.end = begin, end }

// Record implements [Handler]: page faults become marks; every record
// makes its pCPU's lane exist.
func (tl *Timeline) Record(rec *record.Record, t uint64) {
	if t < tl.begin {
		return
	}
	tl.lane(rec.CPU) // the lane exists even with nothing drawn on it
	k, ok := tl.kinds[rec.Event]
	if !ok {
		k = kindOf(rec.Event)
		tl.kinds[rec.Event] = k
	}
	if k.id == kPageFault {
		v := func(i int) uint64 { return rec.Values[k.f[i]].U }
		tl.addMark(rec.CPU, mark{t: t - tl.begin, kind: MarkPageFault, arg: v(2), arg2: v(0)<<16 | v(1)&0xffff})
	}
}

// Run implements [Handler].
func (tl *Timeline) Run(cpu uint32, dom, vcpu uint16, b, e uint64) {
	k := vcpuKey{dom, vcpu}
	w, ok := tl.whoIndex[k]
	if !ok {
		w = len(tl.who)
		label := DomainLabel(dom)
		if dom != IdleDomain {
			label += "v" + u(uint64(vcpu))
		}
		tl.who = append(tl.who, Who{Label: label, Domain: dom, VCPU: vcpu})
		tl.whoIndex[k] = w
	}
	l := tl.lane(cpu)
	l.runs = append(l.runs, run{b: b - tl.begin, e: e - tl.begin, who: w})
}

// Call implements [Handler].
func (tl *Timeline) Call(cpu uint32, op uint64, b, e uint64) {
	b = max(b, tl.begin)
	tl.addMark(cpu, mark{t: b - tl.begin, dur: e - b, kind: MarkHypercall, arg: op})
	tl.ops[op] = true
}

// IRQ implements [Handler].
func (tl *Timeline) IRQ(cpu uint32, irq uint32, vector uint8, b, e uint64) {
	b = max(b, tl.begin)
	tl.addMark(cpu, mark{t: b - tl.begin, dur: e - b, kind: MarkIRQ, arg: uint64(irq), arg2: uint64(vector)})
}

// Offline implements [Handler].
func (tl *Timeline) Offline(cpu uint32, b, e uint64) {
	tl.lane(cpu).offline = append(tl.lane(cpu).offline, [2]uint64{b - tl.begin, e - tl.begin})
}

// AddLosses adds the gaps where streams lost records, clipped to the
// window [begin, end) a [Replayer.Finish] returned; info converts their
// timestamps.
func (tl *Timeline) AddLosses(losses []record.Loss, info record.TraceInfo, end uint64) {
	for _, g := range losses {
		if !g.HasCPU {
			continue
		}
		b, e := max(info.NS(g.After), tl.begin), min(info.NS(g.Before), end)
		if e < b || b >= end || e < tl.begin {
			continue
		}
		l := tl.lane(g.CPU)
		l.lost = append(l.lost, lostGap{b: b - tl.begin, e: e - tl.begin, count: g.Count})
	}
}

// sortedCPUs returns the pCPUs with a lane, in order.
func (tl *Timeline) sortedCPUs() []uint32 {
	cpus := make([]uint32, 0, len(tl.lanes))
	for c := range tl.lanes {
		cpus = append(cpus, c)
	}
	slices.Sort(cpus)
	return cpus
}
