package hypervisor

import (
	"math/rand/v2"

	"github.com/lttng-xen/lttng-xen/record"
)

// workload makes a pCPU's stream of Xen-like events: a scheduler that
// switches between the vCPUs of a few domains, hypercalls, interrupts,
// page faults, timers, the odd domain creation and printk strings of
// varying length. It is deterministic for a given seed and pCPU. Each pCPU
// owns its workload; nothing here is shared, and nothing may share its
// cache lines: every event writes the generator's state and w.vals, and
// four pCPUs' generators, allocated apart but 16 bytes each, used to share
// one line and cost the flat-out trace twice the CPU per event with four
// pCPUs as with one (docs/PERFORMANCE.md). The padding keeps other data off
// the lines this struct writes.
type workload struct {
	_     [64]byte
	pcg   rand.PCG // the generator's state, inside the padded struct
	rng   *rand.Rand
	cpu   uint32
	vals  [5]record.Value // reused: the write path allocates nothing
	cur   struct{ dom, vcpu uint16 }
	inHC  bool
	hcOp  uint64
	inIRQ bool
	irq   uint32
	nextD uint16
	_     [64]byte
}

// Xen hypercall numbers a guest commonly makes.
var hypercalls = [...]uint64{1, 2, 3, 6, 12, 13, 17, 20, 24, 29, 32, 33, 34, 38}

var printkMsgs = [...]string{
	"(XEN) d%d: vcpu up",
	"(XEN) grant table op: map",
	"(XEN) memory_exchange: out of memory",
	"(XEN) Domain heap initialised DMA width 32 bits",
	"(XEN) traps.c: CPU has unexpected MSR access, ignoring write to 0x00000199",
	"(XEN) sched: credit2: runqueue 0: load 1024, avgload 512, max_weight 256, tickled 3",
	"ok",
}

func newWorkload(seed uint64, cpu uint32) *workload {
	w := &workload{cpu: cpu, nextD: 1}
	w.pcg.Seed(seed, uint64(cpu)+1) // the stream rand.NewPCG(seed, cpu+1) gives
	w.rng = rand.New(&w.pcg)
	return w
}

// next picks the next event and fills its values. It returns the event
// id and the values to encode (a slice of w.vals).
func (w *workload) next() (uint32, []record.Value) {
	v := &w.vals
	r := w.rng.Uint32N(100)
	switch {
	case w.inHC && r < 60:
		w.inHC = false
		v[0], v[1] = record.Uint(w.hcOp), record.Int(int64(w.rng.IntN(3))-1)
		return record.IDHypercallExit, v[:2]
	case w.inIRQ && r < 70:
		w.inIRQ = false
		v[0] = record.Uint(uint64(w.irq))
		return record.IDIRQExit, v[:1]
	case r < 20:
		w.inHC = true
		w.hcOp = hypercalls[w.rng.IntN(len(hypercalls))]
		v[0], v[1] = record.Uint(w.hcOp), record.Uint(uint64(w.cur.vcpu))
		return record.IDHypercallEntry, v[:2]
	case r < 32:
		prev := w.cur
		w.cur.dom, w.cur.vcpu = uint16(w.rng.IntN(4)), uint16(w.rng.IntN(4))
		v[0], v[1], v[2] = record.Uint(uint64(prev.dom)), record.Uint(uint64(prev.vcpu)), record.Int(int64(w.rng.IntN(3)))
		v[3], v[4] = record.Uint(uint64(w.cur.dom)), record.Uint(uint64(w.cur.vcpu))
		return record.IDSchedSwitch, v[:5]
	case r < 42:
		v[0], v[1] = record.Uint(uint64(w.rng.IntN(4))), record.Uint(uint64(w.rng.IntN(4)))
		return record.IDVCPUWake, v[:2]
	case r < 50:
		v[0], v[1] = record.Uint(uint64(w.cur.dom)), record.Uint(uint64(w.cur.vcpu))
		return record.IDVCPUBlock, v[:2]
	case r < 62:
		w.inIRQ = true
		w.irq = 16 + w.rng.Uint32N(48)
		v[0], v[1] = record.Uint(uint64(w.irq)), record.Uint(uint64(0x20+w.irq))
		return record.IDIRQEntry, v[:2]
	case r < 74:
		v[0], v[1] = record.Uint(uint64(w.cur.dom)), record.Uint(uint64(w.cur.vcpu))
		v[2], v[3] = record.Uint(w.rng.Uint64()&0x7fff_ffff_f000), record.Uint(uint64(w.rng.IntN(32)))
		return record.IDPageFault, v[:4]
	case r < 90:
		v[0], v[1] = record.Uint(w.rng.Uint64()>>20), record.Int(int64(w.rng.IntN(2_000_000))-1_000_000)
		return record.IDTimer, v[:2]
	case r < 92:
		v[0], v[1] = record.Uint(uint64(w.nextD)), record.Uint(uint64(1+w.rng.IntN(8)))
		v[2], v[3] = record.Uint(uint64(256<<10)*uint64(1+w.rng.IntN(16))), record.Str(domainNames[int(w.nextD)%len(domainNames)])
		if w.nextD++; w.nextD == 0 {
			w.nextD = 1 // domain ids wrap after 65535 creations; 0 would make IntN(0) panic below
		}
		return record.IDDomainCreate, v[:4]
	case r < 93:
		v[0], v[1] = record.Uint(uint64(w.rng.IntN(int(w.nextD)))), record.Int(int64(w.rng.IntN(4)))
		return record.IDDomainDestroy, v[:2]
	default:
		v[0] = record.Str(printkMsgs[w.rng.IntN(len(printkMsgs))])
		return record.IDPrintk, v[:1]
	}
}

var domainNames = [...]string{"Domain-0", "guest-web", "guest-db", "hvm-win", "pv-test", "stubdom-qemu"}
