package hypervisor

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// The workload runs on the pCPUs of the trace's CPUs only; status shows them and the name.
func TestWorkloadCPUs(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 4, Rate: 20000})
	cfg := geom(64<<10, 16)
	cfg.Name, cfg.CPUs = "web", []int{3, 1, 3}
	if err := h.Create(cfg); err != nil {
		t.Fatal(err)
	}
	st := h.Status()
	if st.Name != "web" || !slices.Equal(st.WorkloadCPUs, []int{1, 3}) {
		t.Errorf("status name %q, workload_cpus %v; want web, [1 3]", st.Name, st.WorkloadCPUs)
	}
	c := collect(t, h)
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	counts := map[uint32]int{}
	for _, r := range records(t, c.finish(t, h)) {
		counts[r.CPU]++
	}
	if counts[0] != 0 || counts[2] != 0 || counts[1] == 0 || counts[3] == 0 {
		t.Errorf("records per pCPU %v: want some on 1 and 3 only", counts)
	}
}

func TestWorkloadCPUsOutOfRange(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 2, MaxCPUs: 3})
	cfg := geom(4096, 4)
	cfg.CPUs = []int{0, 3}
	err := h.Create(cfg)
	if !errors.Is(err, wire.ErrBadRequest) || !strings.Contains(err.Error(), "pCPU 3 does not exist: the hypervisor has pCPUs 0-2") {
		t.Fatalf("create with pCPU 3 of 3: %v", err)
	}
	if h.Status().State != wire.StateNone {
		t.Errorf("a trace was created anyway")
	}
}

// Hotplug markers are written even when every event is disabled.
func TestMarkersAreNeverFiltered(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 2, Rate: 20000})
	cfg := geom(64<<10, 16)
	cfg.Events = []string{"timer"}
	if err := h.Create(cfg); err != nil {
		t.Fatal(err)
	}
	if err := h.SetEvents(false, []string{"*"}); err != nil {
		t.Fatal(err)
	}
	c := collect(t, h)
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.CPUOffline(1); err != nil {
		t.Fatal(err)
	}
	if err := h.CPUOnline(1); err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range records(t, c.finish(t, h)) {
		names = append(names, r.Name())
	}
	if !slices.Equal(names, []string{"cpu_offline", "cpu_online"}) {
		t.Errorf("records %v, want only [cpu_offline cpu_online]", names)
	}
}
