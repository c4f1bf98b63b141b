package hypervisor

import (
	"errors"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// TestOverwriteMap: an overwrite-mode trace refuses the consumer role (a
// consumer would read packets in place while writers reclaim them) and
// maps observers, which is how snapshots read it.
func TestOverwriteMap(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 1})
	cfg := geom(4096, 4)
	cfg.Mode = shm.ModeOverwrite
	if err := h.Create(cfg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Map("reader", wire.MapArgs{Role: wire.RoleConsumer, PID: 41}); !errors.Is(err, wire.ErrBadState) || !strings.Contains(err.Error(), "snapshot") {
		t.Errorf("consumer on an overwrite trace: %v, want bad_state naming snapshot", err)
	}
	if _, _, err := h.Map("observer", wire.MapArgs{Role: wire.RoleObserver, PID: 42}); err != nil {
		t.Errorf("observer on an overwrite trace: %v", err)
	}
	if st := h.Status(); st.Mode != wire.ModeOverwrite || len(st.PerCPU) != 1 {
		t.Errorf("status: mode %q, %d pCPUs", st.Mode, len(st.PerCPU))
	}
}
