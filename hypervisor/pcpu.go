package hypervisor

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// pcpu is one simulated physical CPU: a goroutine that, while a trace is
// started, writes its workload's events into the channel.
type pcpu struct {
	id uint32
	h  *Hypervisor
	wl *workload

	// section counts write sections in progress on this pCPU (the pCPU's
	// own batch, or an emit request made on its behalf). Quiescence is
	// every pCPU seen at zero after tracing was disabled.
	section atomic.Int32
	// online: the pCPU is up (CPU hotplug). Written under Hypervisor.mu,
	// read by the pCPU at every batch.
	online atomic.Bool
	// wake is closed (and replaced, under Hypervisor.mu) when online
	// changes, to wake the goroutine from its waits.
	wake chan struct{}
	_    [40]byte
}

// loop runs until done is closed: wait for a started trace, write until it
// stops, repeat.
func (p *pcpu) loop(done <-chan struct{}) {
	for {
		t := p.h.waitRunnable(p, done)
		if t == nil {
			return
		}
		p.trace(t)
	}
}

// batchFor returns how many events to write between pacing sleeps and the
// time a batch should take, for rate events per second (0: flat out).
// Batches keep sleeps at 1 ms or more, so a high rate costs no more timer
// wakeups than a low one.
func batchFor(rate float64) (int, time.Duration) {
	if rate <= 0 {
		return 256, 0
	}
	n := max(1, int(rate/1000))
	return n, time.Duration(float64(n) / rate * float64(time.Second))
}

// trace writes t's workload until t is disabled or the pCPU goes offline.
//
// Memory ordering: the section counter is raised before enabled is loaded
// and dropped after the last write of the batch; Stop stores enabled=false
// before loading the counters. With sequentially consistent atomics, either
// the pCPU sees enabled=false and writes nothing, or Stop sees the raised
// counter and waits for it: no record is written after Stop returns. The
// same holds for online and CPU offlining.
//
// The pCPU commits through a shm.Writer: one atomic add per packet and
// batch instead of one per record. It flushes before dropping its section
// counter, so a quiescent pCPU holds no uncommitted bytes and Stop's final
// flush delivers everything. At --rate 0 with more pCPUs online than Ps it
// yields after each batch, so that the Go scheduler switches pCPUs between
// batches (holding nothing) rather than preempting one in the middle of a
// batch while the packet it holds open fills the ring behind it. With no
// more pCPUs than Ps it does not: a yield would let an idle P move the pCPU
// to another CPU, with every cache line it uses.
func (p *pcpu) trace(t *Trace) {
	p.h.mu.Lock()
	wake := p.wake
	p.h.mu.Unlock()
	batch, period := batchFor(p.h.cfg.Rate)
	var timer *time.Timer
	if period > 0 {
		timer = time.NewTimer(period)
		defer timer.Stop()
	}
	next := time.Now()
	written := t.written[p.id].v.Load()
	w := t.ch.Ring(int(p.id)).Writer()
	yield := period == 0 && p.h.onlineCount() > runtime.GOMAXPROCS(0)
	for {
		p.section.Add(1)
		if !t.enabled.Load() || !p.online.Load() {
			p.section.Add(-1)
			return
		}
	batch:
		for range batch {
			id, vals := p.wl.next()
			switch t.writeBatched(&w, p.h.builtin[id], vals) {
			case wrote:
				written++
			case disabled:
				break batch
			}
		}
		w.Flush()
		p.section.Add(-1)
		t.written[p.id].v.Store(written)
		if period == 0 {
			if yield {
				runtime.Gosched()
			}
			continue
		}
		next = next.Add(period)
		d := time.Until(next)
		if d <= 0 {
			if d < -time.Second {
				next = time.Now() // fell far behind: do not burst to catch up
			}
			continue
		}
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-t.stop:
			return
		case <-wake:
			return
		}
	}
}

// writeResult says what became of one event.
type writeResult int

const (
	wrote    writeResult = iota // committed to the channel
	dropped                     // lost: buffer full or too big (the channel counts it)
	disabled                    // tracing is off: nothing written, nothing lost
	filtered                    // the event type is disabled: nothing written, nothing lost
)

// write writes one record into pCPU cpu's ring. It is the whole path a
// pCPU pays per event: the enabled check, then
// (inside Reserve) the timestamp and the reservation, the encoding into
// the reserved bytes, and the commit. No lock, no allocation, no system
// call (but the VIRQ when a packet completes).
func (t *Trace) write(cpu uint32, ev *record.Event, vals []record.Value) writeResult {
	if res := t.admit(ev); res != wrote {
		return res
	}
	ring := t.ch.Ring(int(cpu))
	r, err := ring.Reserve(ev.Size(vals))
	if err != nil {
		return dropped
	}
	ev.Encode(r.Buf, r.TS, vals)
	ring.Commit(&r)
	return wrote
}

// admit is the per-event check before any write: tracing on (disabled
// otherwise) and the event type enabled (filtered otherwise); wrote means
// go ahead. Two atomic loads, no lost count.
func (t *Trace) admit(ev *record.Event) writeResult {
	if !t.enabled.Load() {
		return disabled
	}
	if m := t.mask.Load(); m != nil && !m.has(ev.ID) {
		return filtered
	}
	return wrote
}

// writeBatched is write for a pCPU's own batch: the commit goes through
// the pCPU's shm.Writer, which the caller flushes at the end of the batch.
func (t *Trace) writeBatched(w *shm.Writer, ev *record.Event, vals []record.Value) writeResult {
	if res := t.admit(ev); res != wrote {
		return res
	}
	buf, ts, err := w.Reserve(ev.Size(vals))
	if err != nil {
		return dropped
	}
	ev.Encode(buf, ts, vals)
	w.Commit()
	return wrote
}

// onlineCount returns how many pCPUs are online.
func (h *Hypervisor) onlineCount() int {
	n := 0
	for _, p := range h.cpus {
		if p.online.Load() {
			n++
		}
	}
	return n
}
