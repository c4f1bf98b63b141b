// Package wire is the socket protocol between the lttng-xen processes: the hypercall
// protocol (dom0 → hypervisor, [Hypercalls]) and the tools' lttngxentrace interface
// (lttctl-xen, lttd-xen → dom0, [Tools]).
//
// Transport: a unix socket of type SOCK_SEQPACKET ([Listen], [Dial], [Pair]). Each packet is
// one message: a JSON object of at most [MaxMessageSize] bytes, with any file descriptors
// attached to the same packet as SCM_RIGHTS. The client sends a [Request] and reads one
// [Reply] per request, in order ([Conn.Call]); the server reads requests with
// [Conn.RecvRequest] and answers with [Conn.Reply] or [Conn.ReplyError]. Only replies carry
// descriptors: bind_virq one (the VIRQ eventfd), map two (control and buffer memfds), poll
// one (the reader's wakeup fd).
//
// Decoding ignores unknown fields (so either side can grow) but is strict on types. A
// failed reply carries a machine-readable [Code]; on the client it becomes a [*RemoteError]
// that errors.Is matches against the sentinels [ErrBadState], [ErrNoTrace] and the like,
// and a server builds it from any error wrapping one of them ([ErrorReply]).
//
// Servers learn who is calling with [PeerCred] and decide with [Authorize].
package wire
