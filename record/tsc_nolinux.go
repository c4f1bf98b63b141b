//go:build !linux

package record

import "runtime"

// allowedCPUs returns one entry per CPU (no affinity control here).
func allowedCPUs() []int {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// pinToCPU is not supported: the threads run where the scheduler puts them.
func pinToCPU(int) error { return nil }
