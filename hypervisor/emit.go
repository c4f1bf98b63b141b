package hypervisor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Emit is the emit hypercall: pCPU cpu writes one event of type name with
// the given field values (as text, checked against the declaration).
func (h *Hypervisor) Emit(cpu int, name string, fields map[string]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, err := h.current()
	if err != nil {
		return err
	}
	if t.state != shm.StateStarted {
		return fmt.Errorf("%w: the trace is %s; emit needs a started trace (lttctl-xen start)", ErrBadState, t.state)
	}
	ev, ok := h.table.ByName(name)
	if !ok {
		return withCode(fmt.Errorf("no event type %q (see: lttctl-xen event list)", name), wire.ErrNotFound)
	}
	vals, err := parseFields(ev, fields)
	if err != nil {
		return withCode(err, wire.ErrBadRequest)
	}
	p, err := h.cpuLocked(cpu)
	if err != nil {
		return err
	}
	if !p.online.Load() {
		return fmt.Errorf("%w: pCPU %d is offline (lttctl-xen cpu online %d)", ErrBadState, cpu, cpu)
	}
	// A record that can never fit a sub-buffer is refused here, with the
	// limit, rather than written, dropped and counted as lost: nothing of
	// it was ever traced.
	if size, limit := ev.Size(vals), maxRecord(t); uint64(size) > limit {
		return withCode(fmt.Errorf("the %s record is %d bytes, a sub-buffer holds at most %d (create the trace with a larger --subbuf-size)",
			name, size, limit), wire.ErrTooLarge)
	}
	switch h.emitOnLocked(t, p, ev, vals) {
	case filtered:
		return withCode(fmt.Errorf("event %s is disabled in this trace: nothing written (lttctl-xen enable-event %s)", name, name), wire.ErrEventDisabled)
	case dropped:
		return withCode(fmt.Errorf("the buffer is full: the %s record was dropped and counted in lost_full (is lttd-xen consuming?)", name), wire.ErrBufferFull)
	case disabled:
		return fmt.Errorf("%w: tracing stopped", ErrBadState)
	}
	return nil
}

// maxRecord is the largest record t's sub-buffers hold: what follows the
// packet header.
func maxRecord(t *Trace) uint64 {
	return t.ch.Geometry().SubbufSize - uint64(record.PacketHeaderSize)
}

// parseFields turns name=value text into ev's values, in declaration
// order: every declared field is required, no other is allowed, and each
// value must parse and fit its type.
func parseFields(ev *record.Event, fields map[string]string) ([]record.Value, error) {
	var unknown []string
	for k := range fields {
		if ev.FieldIndex(k) < 0 {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("event %s has no field %s (its fields: %s)", ev.Name, strings.Join(unknown, ", "), ev.Decl())
	}
	vals := make([]record.Value, len(ev.Fields))
	for i, f := range ev.Fields {
		s, ok := fields[f.Name]
		if !ok {
			return nil, fmt.Errorf("missing field %s=%s for event %s", f.Name, f.Type, ev.Decl())
		}
		v, err := record.ParseValue(f.Type, s)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		vals[i] = v
	}
	return vals, nil
}
