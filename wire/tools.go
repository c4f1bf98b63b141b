package wire

// The tools' protocol, the lttngxentrace interface: lttctl-xen and lttd-xen → dom0, on dom0's
// socket. Besides the ops below it uses [OpStatus], [OpMap], [OpUnmap] (relayed as the
// hypercalls of the same names) and the event, filtering and hotplug ops (see message.go).
const (
	// OpCreate creates the trace (relayed as [OpTraceCreate]). Arguments: Create.
	OpCreate Op = "create"
	// OpStart starts tracing (relayed as [OpTraceStart]). No arguments.
	OpStart Op = "start"
	// OpStop stops tracing (relayed as [OpTraceStop]). No arguments.
	OpStop Op = "stop"
	// OpDestroy destroys the trace (relayed as [OpTraceDestroy]). No arguments.
	OpDestroy Op = "destroy"
	// OpPoll registers the connection as a reader. No arguments. Reply: one descriptor, the
	// caller's wakeup fd (an eventfd or the read end of a pipe): it becomes readable after
	// each sub-buffer delivery, and when the trace stops or is destroyed. The reader drains
	// it, takes every readable sub-buffer, then polls it again. The registration ends when
	// the connection closes.
	OpPoll Op = "poll"
)

// Tools is the protocol dom0 serves to the tools.
var Tools = newProtocol("tools",
	OpCreate, OpStart, OpStop, OpDestroy, OpStatus, OpMap, OpUnmap, OpPoll, OpMetadata,
	OpEventAdd, OpEventList, OpEmit, OpEnableEvent, OpDisableEvent, OpCPUOnline, OpCPUOffline,
)
