package hypervisor

import (
	"fmt"
	"slices"

	"github.com/lttng-xen/lttng-xen/wire"
)

// A trace's session settings besides its channel: its name, shown by status,
// and the pCPUs its workload runs on (xentrace -c). The other pCPUs stay
// idle while the trace is started; they still come and go with hotplug, and
// records emitted on them (emit, hotplug markers) are written as usual.

// checkWorkloadCPUs checks a trace's workload pCPUs against the pCPU ids
// [0, n) and returns them sorted, without duplicates (nil: every pCPU).
func checkWorkloadCPUs(cpus []int, n int) ([]int, error) {
	if len(cpus) == 0 {
		return nil, nil
	}
	out := slices.Clone(cpus)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, c := range out {
		if c < 0 || c >= n {
			return nil, withCode(fmt.Errorf("pCPU %d does not exist: the hypervisor has pCPUs 0-%d (its --max-cpus sets the range)", c, n-1), wire.ErrBadRequest)
		}
	}
	return out, nil
}

// runsWorkload reports whether t's workload runs on pCPU cpu.
func (t *Trace) runsWorkload(cpu uint32) bool {
	if len(t.cfg.CPUs) == 0 {
		return true
	}
	_, ok := slices.BinarySearch(t.cfg.CPUs, int(cpu))
	return ok
}

// sessionStatus fills in the session's part of st.
func (t *Trace) sessionStatus(st *wire.Status) {
	st.Name = t.cfg.Name
	st.WorkloadCPUs = slices.Clone(t.cfg.CPUs)
}
