package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MaxMessageSize is the largest message body, in bytes.
const MaxMessageSize = 64 << 10

// MaxFDs is the most file descriptors one message can carry (the kernel's SCM_MAX_FD).
const MaxFDs = 253

// oobSize holds MaxFDs descriptors in one SCM_RIGHTS message plus room for one more small
// control message, so that MSG_CTRUNC only ever means a misbehaving peer.
var oobSize = unix.CmsgSpace(MaxFDs*4) + unix.CmsgSpace(64)

// Conn is one end of a protocol connection: a SOCK_SEQPACKET unix socket carrying one JSON
// message per packet, with file descriptors in SCM_RIGHTS on the same packet.
//
// Concurrency: Send may be called from several goroutines at once (each message is written by
// one sendmsg, which the kernel keeps whole). Recv and RecvRequest may be called from several
// goroutines but are serialized internally; Call serializes whole request/reply exchanges with
// other Calls. Replies are matched to requests only by order, so a client must not Recv on a
// connection while a Call is in flight. Close, SetDeadline and PeerCred may be called at any
// time, from any goroutine; Close unblocks a pending Recv.
type Conn struct {
	uc     *net.UnixConn
	closed atomic.Bool

	callMu sync.Mutex // serializes Call; taken before recvMu

	recvMu sync.Mutex // guards buf and oob
	buf    []byte     // MaxMessageSize, allocated on first Recv
	oob    []byte
}

// NewConn wraps uc, which must be a connected SOCK_SEQPACKET unix socket (from [Dial], an
// AcceptUnix on a listener from [Listen], or [Pair]). The Conn owns uc from now on.
func NewConn(uc *net.UnixConn) *Conn {
	return &Conn{uc: uc}
}

// Pair returns two connected Conns over a socketpair(AF_UNIX, SOCK_SEQPACKET), for tests and
// for speaking the protocol in-process.
func Pair() (a, b *Conn, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	ua, errA := fileConn(fds[0])
	ub, errB := fileConn(fds[1])
	if err := errors.Join(errA, errB); err != nil {
		if ua != nil {
			ua.Close()
		}
		if ub != nil {
			ub.Close()
		}
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return NewConn(ua), NewConn(ub), nil
}

// fileConn turns a socket descriptor into a *net.UnixConn; fd is closed in all cases.
func fileConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "seqpacket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("%T is not a unix socket", c)
	}
	return uc, nil
}

// UnixConn returns the underlying socket. Do not read from or write to it.
func (c *Conn) UnixConn() *net.UnixConn { return c.uc }

// SyscallConn gives access to the socket's descriptor (for [PeerCred]).
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.uc.SyscallConn() }

// SetDeadline sets the read and write deadline of the connection (zero: none). A Recv or Call
// that passes it fails with an error matching [os.ErrDeadlineExceeded].
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.uc.SetDeadline(t); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	return nil
}

// Close closes the connection. It is idempotent: only the first call closes, later calls
// return nil.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := c.uc.Close(); err != nil {
		return fmt.Errorf("close connection: %w", err)
	}
	return nil
}

// Send writes v as one JSON message, with fds attached (SCM_RIGHTS). The caller keeps
// ownership of fds and must keep them open until Send returns (runtime.KeepAlive for
// descriptors held by an *os.File). A message over [MaxMessageSize] or with over [MaxFDs]
// descriptors is not sent.
func (c *Conn) Send(v any, fds ...int) error {
	if c.closed.Load() {
		return fmt.Errorf("send: %w", net.ErrClosed)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("send: encode: %w", err)
	}
	if len(b) > MaxMessageSize {
		return fmt.Errorf("send: %d bytes, over the %d-byte limit of one message: %w", len(b), MaxMessageSize, ErrMessageTooLarge)
	}
	if len(fds) > MaxFDs {
		return fmt.Errorf("send: %d descriptors: %w", len(fds), ErrFDCount)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	n, oobn, err := c.uc.WriteMsgUnix(b, oob, nil)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if n != len(b) || oobn != len(oob) {
		return fmt.Errorf("send: short write (%d of %d bytes, %d of %d control bytes): %w",
			n, len(b), oobn, len(oob), ErrTruncated)
	}
	return nil
}

// Recv reads one message into v (a pointer, decoded with encoding/json: unknown fields are
// ignored, mistyped ones are errors; the body must be a JSON object). It accepts at most
// maxFDs descriptors and returns them as files, which the caller owns; on any error every
// descriptor that arrived has been closed and no files are returned.
//
// Errors: [io.EOF] when the peer has closed; [ErrMessageTooLarge], [ErrTruncated],
// [ErrFDCount], [ErrMalformed] for a bad message (the connection is still usable: the bad
// message has been consumed whole); errors matching [os.ErrDeadlineExceeded] or
// [net.ErrClosed].
func (c *Conn) Recv(v any, maxFDs int) ([]*os.File, error) {
	files, err := c.recv(v, maxFDs, nil)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	return files, nil
}

// recv is Recv without the context in errors; names are the files' names, "fd" beyond them.
func (c *Conn) recv(v any, maxFDs int, names []string) (files []*os.File, err error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.closed.Load() {
		return nil, net.ErrClosed
	}
	if c.buf == nil {
		c.buf = make([]byte, MaxMessageSize)
		c.oob = make([]byte, oobSize)
	}
	n, oobn, flags, _, rerr := c.uc.ReadMsgUnix(c.buf, c.oob)
	// Descriptors may have arrived even with an error (a zero-length message reads as
	// io.EOF): collect them first so that every path below closes them.
	fds, perr := parseRights(c.oob[:oobn])
	defer func() {
		if err != nil {
			closeFDs(fds)
			files = nil
		}
	}()
	switch {
	case rerr != nil:
		return nil, rerr
	case perr != nil:
		return nil, fmt.Errorf("parse control message: %w: %w", ErrTruncated, perr)
	case flags&unix.MSG_TRUNC != 0:
		return nil, fmt.Errorf("over %d bytes: %w", MaxMessageSize, ErrMessageTooLarge)
	case flags&unix.MSG_CTRUNC != 0:
		return nil, ErrTruncated
	case len(fds) > maxFDs:
		return nil, fmt.Errorf("%d descriptors, at most %d allowed: %w", len(fds), maxFDs, ErrFDCount)
	}
	if err := decodeObject(c.buf[:n], v); err != nil {
		return nil, err
	}
	files = make([]*os.File, len(fds))
	for i, fd := range fds {
		name := "fd"
		if i < len(names) {
			name = names[i]
		}
		files[i] = os.NewFile(uintptr(fd), name)
	}
	return files, nil
}

// parseRights returns every descriptor in the SCM_RIGHTS messages of oob.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	var errs []error
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		r, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fds = append(fds, r...)
	}
	return fds, errors.Join(errs...)
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// Call sends req (after [Request.Validate]) and waits for its reply. A successful reply comes
// with exactly the descriptors its op documents (see [ReplyFDs]), as files named after their
// role and owned by the caller. A failed reply is returned together with its error, a
// [*RemoteError] (match it with errors.Is against [ErrBadState] and the like). Local errors
// are wrapped with the op; on every error no files are returned and none stay open.
//
// Calls are serialized per Conn. Use [Conn.SetDeadline] to bound the wait.
func (c *Conn) Call(req *Request) (*Reply, []*os.File, error) {
	if err := req.Validate(); err != nil {
		return nil, nil, fmt.Errorf("call: %w", err)
	}
	spec := opSpecs[req.Op]
	c.callMu.Lock()
	defer c.callMu.Unlock()
	if err := c.Send(req); err != nil {
		return nil, nil, fmt.Errorf("call %s: %w", req.Op, err)
	}
	var rep Reply
	files, err := c.recv(&rep, len(spec.replyFDs), spec.replyFDs)
	if err != nil {
		return nil, nil, fmt.Errorf("call %s: receive reply: %w", req.Op, err)
	}
	if err := checkReply(&rep, spec, len(files)); err != nil {
		closeFiles(files)
		return nil, nil, fmt.Errorf("call %s: reply: %w", req.Op, err)
	}
	if !rep.OK {
		return &rep, nil, rep.Err()
	}
	return &rep, files, nil
}

// checkReply checks a reply to an op with spec that arrived with nfds descriptors.
func checkReply(rep *Reply, spec opSpec, nfds int) error {
	if err := rep.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	want := len(spec.replyFDs)
	if !rep.OK {
		want = 0
	}
	if nfds != want {
		return fmt.Errorf("%d descriptors, want %d: %w", nfds, want, ErrFDCount)
	}
	if rep.OK && spec.reply != nil {
		if err := spec.reply(rep); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	return nil
}

// RecvRequest reads one request for a server of protocol p. Requests carry no descriptors.
//
// If the error matches [ErrBadRequest] or [ErrUnknownOp] (errors.As finds a [*RemoteError]),
// a bad message was consumed and the connection is still in step: reply with
// [ErrorReply](err) and read the next request. Any other error (io.EOF, a deadline, a closed
// connection) ends the connection.
func (c *Conn) RecvRequest(p *Protocol) (*Request, error) {
	var req Request
	if _, err := c.recv(&req, 0, nil); err != nil {
		if errors.Is(err, ErrMalformed) || errors.Is(err, ErrMessageTooLarge) ||
			errors.Is(err, ErrTruncated) || errors.Is(err, ErrFDCount) {
			return nil, fmt.Errorf("receive request: %w: %w", ErrBadRequest, err)
		}
		return nil, fmt.Errorf("receive request: %w", err)
	}
	if err := p.Validate(&req); err != nil {
		return nil, fmt.Errorf("receive request: %w", err)
	}
	return &req, nil
}

// Reply sends rep as a successful reply (a copy with OK set and no error) with fds attached;
// see [Conn.Send] for who owns fds. rep may be nil.
func (c *Conn) Reply(rep *Reply, fds ...int) error {
	var r Reply
	if rep != nil {
		r = *rep
	}
	r.OK, r.Code, r.Error = true, "", ""
	return c.Send(&r, fds...)
}

// ReplyError sends [ErrorReply](err).
func (c *Conn) ReplyError(err error) error {
	return c.Send(ErrorReply(err))
}
