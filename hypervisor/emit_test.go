package hypervisor

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// TestEmitErrorsAreDistinct: an emit that writes nothing says why with its
// own code: the event type is disabled, the record can never fit a
// sub-buffer (the message gives the limit), or the buffer is full (no
// consumer here, so it fills).
func TestEmitErrorsAreDistinct(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 1, Rate: 1})
	const subbuf = 4096
	if err := h.Create(TraceConfig{Geometry: shm.Geometry{SubbufSize: subbuf, NumSubbuf: 2}, Events: []string{"timer"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddEvent("probe(string msg)"); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	msg := func(n int) map[string]string { return map[string]string{"msg": strings.Repeat("m", n)} }

	err := h.Emit(0, "probe", msg(10))
	if !errors.Is(err, wire.ErrEventDisabled) || errors.Is(err, wire.ErrBadState) || !strings.Contains(err.Error(), "lttctl-xen enable-event probe") {
		t.Errorf("emit of a disabled event: %v", err)
	}
	if err := h.SetEvents(true, []string{"probe"}); err != nil {
		t.Fatal(err)
	}
	limit := subbuf - record.PacketHeaderSize
	err = h.Emit(0, "probe", msg(subbuf))
	if !errors.Is(err, wire.ErrTooLarge) || !strings.Contains(err.Error(), strconv.Itoa(limit)) {
		t.Errorf("emit of a record over a sub-buffer: %v (want code too_large and the limit %d)", err, limit)
	}
	if lost := h.Status().LostTooBig; lost != 0 {
		t.Errorf("a refused emit counted %d records lost", lost)
	}
	// No consumer: two sub-buffers of 1000-byte records fill within 10 emits.
	for i := range 10 {
		err = h.Emit(0, "probe", msg(1000))
		if err != nil {
			break
		}
		if i == 9 {
			t.Fatal("10 emits of 1000 bytes fitted two 4096-byte sub-buffers nobody consumes")
		}
	}
	if !errors.Is(err, wire.ErrBufferFull) || !strings.Contains(err.Error(), "full") {
		t.Errorf("emit into a full buffer: %v", err)
	}
	if lost := h.Status().LostFull; lost == 0 {
		t.Errorf("a dropped emit is not counted in lost_full")
	}
}
