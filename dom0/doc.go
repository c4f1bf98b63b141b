// Package dom0 is the Linux-kernel stand-in of lttng-xen: the only process
// that issues hypercalls. It binds VIRQ_TBUF, runs xen_wakeup_readers on
// every VIRQ (one write to each registered reader's wakeup descriptor), and
// serves the tools' lttngxentrace interface on its own socket, relaying
// create/start/stop/destroy/status/map/metadata as hypercalls.
//
// Lock order: Dom0.mu, then Dom0.hvMu (a hypercall in flight). The VIRQ
// goroutine takes only Dom0.mu, briefly, to copy the reader list.
package dom0
