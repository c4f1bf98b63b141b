package hypervisor

import "github.com/lttng-xen/lttng-xen/wire"

// Sentinel errors of the hypercalls. Each carries the wire error code a
// reply should have (errors.Is against the wire sentinel holds), so dom0
// and the tools can tell them apart; the text says what to do.
var (
	// ErrNoTrace: the hypercall needs a trace and none exists.
	ErrNoTrace error = coded("no trace exists: create one first (lttctl-xen create)", wire.ErrNoTrace)
	// ErrTraceExists: trace_create while a trace exists.
	ErrTraceExists error = coded("a trace already exists: destroy it first (lttctl-xen destroy)", wire.ErrExists)
	// ErrBadState: the trace is not in a state that allows the hypercall.
	ErrBadState error = coded("wrong trace state", wire.ErrBadState)
	// ErrNotBound: a hypercall from a connection that did not bind VIRQ_TBUF.
	ErrNotBound error = coded("hypercall refused: this connection has not bound VIRQ_TBUF", wire.ErrNotBound)
	// ErrAlreadyBound: bind_virq while another live dom0 holds the binding.
	ErrAlreadyBound error = coded("VIRQ_TBUF is already bound by another dom0", wire.ErrExists)
	// ErrBadMap: unmap of a mapping id that is not live.
	ErrBadMap error = coded("no such mapping", wire.ErrNotFound)
	// ErrClosed: the hypervisor is shutting down.
	ErrClosed error = coded("hypervisor is shutting down", wire.ErrUnavailable)
)

// codedError is an error with its own text that also matches a wire code.
type codedError struct {
	msg  string
	err  error // the cause, if any
	code error // a wire.Err* sentinel
}

func coded(msg string, code error) *codedError { return &codedError{msg: msg, code: code} }

// withCode gives err the wire code, keeping its text and chain.
func withCode(err, code error) error { return &codedError{msg: err.Error(), err: err, code: code} }

func (e *codedError) Error() string { return e.msg }

func (e *codedError) Unwrap() []error {
	if e.err != nil {
		return []error{e.err, e.code}
	}
	return []error{e.code}
}
