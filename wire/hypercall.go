package wire

// The hypercall protocol: dom0 → hypervisor, on the hypervisor's socket. dom0 is the only
// client. Besides the ops below it uses [OpStatus], [OpMap], [OpUnmap] and the event, filtering and hotplug ops
// (see message.go).
const (
	// OpBindVIRQ binds VIRQ_TBUF. No arguments. Reply: one descriptor, an eventfd the
	// hypervisor writes to (adds 1) each time a sub-buffer is delivered; dom0 reads it to
	// learn that readers must be woken. Errors: exists (already bound by a live connection).
	OpBindVIRQ Op = "bind_virq"
	// OpTraceCreate creates the trace and its channel. Arguments: Create. Errors: exists,
	// bad_request (geometry), not_bound.
	OpTraceCreate Op = "trace_create"
	// OpTraceStart starts tracing: pCPUs write records. No arguments. Errors: no_trace,
	// bad_state.
	OpTraceStart Op = "trace_start"
	// OpTraceStop stops tracing and flushes the partial sub-buffer. No arguments. Errors:
	// no_trace, bad_state.
	OpTraceStop Op = "trace_stop"
	// OpTraceDestroy tears the trace down once every pCPU is quiescent; the memory goes with
	// the last mapping. No arguments. Errors: no_trace, bad_state.
	OpTraceDestroy Op = "trace_destroy"
)

// Hypercalls is the protocol the hypervisor serves.
var Hypercalls = newProtocol("hypercall",
	OpBindVIRQ, OpTraceCreate, OpMap, OpUnmap, OpTraceStart, OpTraceStop, OpTraceDestroy,
	OpStatus, OpMetadata,
	OpEventAdd, OpEventList, OpEmit, OpEnableEvent, OpDisableEvent, OpCPUOnline, OpCPUOffline,
)
