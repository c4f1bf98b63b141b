// Package hypervisor is the simulated Xen hypervisor's tracing side: it owns
// the trace channel (a control region and one ring of sub-buffers per pCPU,
// in sealed memfds), runs
// the simulated physical CPUs that write records into it, raises VIRQ_TBUF
// at every delivered sub-buffer, and serves hypercalls from the one dom0
// that bound that VIRQ.
//
// Lock order: Hypervisor.mu, then nothing. The write path (pCPU goroutines)
// takes no lock: it reads the current trace through an atomic pointer and
// marks its write sections so that stop and destroy can wait for
// quiescence.
package hypervisor
