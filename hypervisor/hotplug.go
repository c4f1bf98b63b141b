package hypervisor

import (
	"fmt"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/wire"
)

// CPU hotplug. pCPU ids range over [0, MaxCPUs); every pCPU has a goroutine
// that sleeps while the pCPU is offline, and a ring and stream of its own.
// Taking a pCPU down waits for it to leave its write section, then writes
// cpu_offline as its last record and flushes its ring; bringing it up
// writes cpu_online as its first. Between the two, the pCPU writes
// nothing.

func (h *Hypervisor) cpuLocked(cpu int) (*pcpu, error) {
	if cpu < 0 || cpu >= len(h.cpus) {
		return nil, withCode(fmt.Errorf("pCPU %d does not exist (pCPUs 0-%d; the hypervisor's --max-cpus sets the range)", cpu, len(h.cpus)-1), wire.ErrNotFound)
	}
	return h.cpus[cpu], nil
}

// setOnlineLocked flips p's state and wakes its goroutine.
func (h *Hypervisor) setOnlineLocked(p *pcpu, on bool) {
	p.online.Store(on)
	close(p.wake)
	p.wake = make(chan struct{})
}

// CPUOffline is cpu_offline.
func (h *Hypervisor) CPUOffline(cpu int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	p, err := h.cpuLocked(cpu)
	if err != nil {
		return err
	}
	if !p.online.Load() {
		return fmt.Errorf("%w: pCPU %d is already offline", ErrBadState, cpu)
	}
	if h.onlineCount() == 1 {
		return fmt.Errorf("%w: pCPU %d is the last one online", ErrBadState, cpu)
	}
	h.setOnlineLocked(p, false)
	p.quiesce()
	if t := h.running; t != nil {
		h.emitOnLocked(t, p, h.builtin[record.IDCPUOffline], []record.Value{record.Uint(uint64(cpu))})
		// The pCPU's stream goes quiet: deliver its partial packet now
		// (nobody writes to the ring until the pCPU is back, so the final
		// flush's unconditional close is safe). cpu_online continues the
		// same stream with the next packet.
		t.ch.Ring(cpu).Flush(true)
	}
	h.log.Info("pCPU offline", "cpu", cpu)
	return nil
}

// CPUOnline is cpu_online.
func (h *Hypervisor) CPUOnline(cpu int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	p, err := h.cpuLocked(cpu)
	if err != nil {
		return err
	}
	if p.online.Load() {
		return fmt.Errorf("%w: pCPU %d is already online", ErrBadState, cpu)
	}
	if t := h.running; t != nil {
		h.emitOnLocked(t, p, h.builtin[record.IDCPUOnline], []record.Value{record.Uint(uint64(cpu))})
	}
	h.setOnlineLocked(p, true)
	h.log.Info("pCPU online", "cpu", cpu)
	return nil
}

// emitOnLocked writes one record on behalf of p, inside a write section
// of p so that stop and destroy wait for it like for p's own records.
func (h *Hypervisor) emitOnLocked(t *Trace, p *pcpu, ev *record.Event, vals []record.Value) writeResult {
	p.section.Add(1)
	res := t.write(p.id, ev, vals)
	p.section.Add(-1)
	if res == wrote {
		t.emitted[p.id].v.Add(1)
	}
	return res
}
