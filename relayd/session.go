package relayd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds each network operation (connect, one command and
// its reply, one packet) when SessionInfo.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// MetadataName is the stream name of the metadata stream, which Dial adds.
const MetadataName = "metadata"

// SessionInfo describes the session Dial creates on the relay.
type SessionInfo struct {
	// Name is the relay's session name: live readers find the session by
	// it. At most 254 bytes.
	Name string
	// Hostname names the host directory the relay writes the trace under,
	// and the host live readers list. At most 63 bytes.
	Hostname string
	// LiveTimer is the live timer period: non-zero makes the session
	// live. It is sent in microseconds (at most about 71 minutes). The
	// caller runs the timer: at each period it sends a beacon
	// ([Stream.SendBeacon]) or an empty packet for every idle stream.
	LiveTimer time.Duration
	// TraceUUID is the trace's UUID, which every metadata packet repeats.
	TraceUUID [16]byte
	// Timeout bounds each network operation; zero means DefaultTimeout.
	Timeout time.Duration
	// TracePath is the trace's directory under the relay's HOSTNAME
	// directory. Empty: the URL's path, else NAME-YYYYMMDD-HHMMSS of the
	// dial's time (LTTng's layout), so a new session never writes over
	// an older one's files.
	TracePath string
}

// Session is one session on a relay: a control and a data connection, the
// metadata stream and the streams added. Its methods may be called from
// several goroutines; packets of one [Stream] are numbered in the order
// their SendPacket calls take the data connection. Close must come after
// every other call has returned.
//
// Lock order: dataMu before ctrlMu (no method holds both).
type Session struct {
	url     URL
	info    SessionInfo
	timeout time.Duration
	id      uint64 // the relay's session id
	minor   uint32 // negotiated protocol minor version
	trace   string // trace directory under the host's, without the part suffix
	part    int    // how many sessions Redial made before this one
	base    string // stream path: HOSTNAME/TRACE_PATH[-PART]

	dataMu sync.Mutex // owns data and every Stream's nextSeq
	data   net.Conn

	ctrlMu   sync.Mutex // owns ctrl, streams, meta, metaSent
	ctrl     net.Conn
	streams  []*Stream
	meta     *Stream
	metaSent []byte // metadata text sent so far

	closed atomic.Bool
	broken atomic.Pointer[error] // first failure; set once
}

// Dial connects to the relay at u, negotiates the protocol version,
// creates the session described by info and adds its metadata stream. ctx
// bounds the whole dial; every later operation has info.Timeout.
func Dial(ctx context.Context, u URL, info SessionInfo) (sess *Session, err error) {
	if u.IsFile() {
		return nil, fmt.Errorf("relayd %s: %w: a file:// URL is a directory, not a relay", u, ErrInvalid)
	}
	if info.Timeout <= 0 {
		info.Timeout = DefaultTimeout
	}
	us := info.LiveTimer / time.Microsecond
	if info.LiveTimer < 0 || us > 1<<32-1 || (info.LiveTimer > 0 && us == 0) {
		return nil, fmt.Errorf("relayd %s: %w: live timer %v is not between 1µs and %v", u, ErrInvalid, info.LiveTimer, time.Duration(1<<32-1)*time.Microsecond)
	}
	if info.Name == "" || strings.ContainsAny(info.Name, "/") || info.Name == "." || info.Name == ".." {
		return nil, fmt.Errorf("relayd %s: %w: session name %q must be a non-empty file name", u, ErrInvalid, info.Name)
	}
	if info.Hostname == "" || strings.ContainsAny(info.Hostname, "/") || info.Hostname == "." || info.Hostname == ".." {
		return nil, fmt.Errorf("relayd %s: %w: hostname %q must be a non-empty file name", u, ErrInvalid, info.Hostname)
	}
	if _, err := (createSession{Name: info.Name, Hostname: info.Hostname}).encode(); err != nil {
		return nil, fmt.Errorf("relayd %s: create session: %w", u, err)
	}
	trace := info.TracePath
	if trace == "" {
		trace = u.Path
	}
	if trace == "" {
		trace = info.Name + time.Now().Format("-20060102-150405")
	}
	trace = path.Clean(trace)
	if path.IsAbs(trace) || trace == "." || trace == ".." || strings.HasPrefix(trace, "../") {
		return nil, fmt.Errorf("relayd %s: %w: trace path %q is not a relative path below the host directory", u, ErrInvalid, info.TracePath)
	}
	return dial(ctx, u, info, trace, 0)
}

// dial is Dial with the trace directory chosen: part 0 is TRACE, part
// n > 0 is TRACE-n.
func dial(ctx context.Context, u URL, info SessionInfo, trace string, part int) (sess *Session, err error) {
	create, err := createSession{Name: info.Name, Hostname: info.Hostname, LiveTimerUS: uint32(info.LiveTimer / time.Microsecond)}.encode()
	if err != nil {
		return nil, fmt.Errorf("relayd %s: create session: %w", u, err)
	}
	base := path.Join(info.Hostname, trace)
	if part > 0 {
		base += "-" + strconv.Itoa(part)
	}
	s := &Session{url: u, info: info, timeout: info.Timeout, trace: trace, part: part, base: base}
	defer func() {
		if err != nil {
			s.closeConns()
		}
	}()

	d := net.Dialer{Timeout: info.Timeout}
	if s.ctrl, err = d.DialContext(ctx, "tcp", u.ControlAddr()); err != nil {
		return nil, s.errorf("connect control port: %w", err)
	}
	if s.data, err = d.DialContext(ctx, "tcp", u.DataAddr()); err != nil {
		return nil, s.errorf("connect data port: %w", err)
	}
	// Commands of the dial also honour ctx: cancelling it closes the
	// connections, which fails the command in progress.
	stop := context.AfterFunc(ctx, s.closeConns)
	defer func() {
		if !stop() {
			// Whatever failed, it failed because ctx ended.
			sess, err = nil, s.errorf("dial: %w", context.Cause(ctx))
		}
	}()

	reply, err := s.roundTrip("version negotiation", cmdVersion, version{VersionMajor, VersionMinor}.encode(), versionSize)
	if err != nil {
		return nil, err
	}
	v, _ := decodeVersion(reply)
	if v.Major != VersionMajor {
		return nil, s.errorf("version negotiation: %w: the peer answered version %d.%d to our %d.%d; is it an lttng-relayd?",
			ErrVersion, v.Major, v.Minor, VersionMajor, VersionMinor)
	}
	s.minor = min(v.Minor, VersionMinor)
	if s.minor < VersionMinor {
		return nil, s.errorf("version negotiation: %w: relay speaks %d.%d, need %d.%d or later",
			ErrVersion, v.Major, v.Minor, VersionMajor, VersionMinor)
	}

	reply, err = s.roundTrip(fmt.Sprintf("create session %q", info.Name), cmdCreateSession, create, statusReplySize)
	if err != nil {
		return nil, err
	}
	st, _ := decodeStatusReply(reply)
	if st.Code != codeOK {
		return nil, s.errorf("create session %q: %w with %s", info.Name, ErrRefused, codeName(st.Code))
	}
	s.id = st.ID

	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	if s.meta, err = s.addStreamLocked(MetadataName, 0); err != nil {
		return nil, err
	}
	return s, nil
}

// URL returns the relay's URL.
func (s *Session) URL() URL { return s.url }

// ID returns the relay's id of the session.
func (s *Session) ID() uint64 { return s.id }

// TracePath returns the trace's directory relative to the relay's output
// directory: HOSTNAME/TRACE_PATH (see SessionInfo.TracePath), with "-N"
// appended for the Nth session Redial made after this session's first.
// That is where a relay grouping its output by host (its default) writes;
// one started with --group-output-by-session rearranges it as
// SESSION/HOSTNAME-DATETIME[/TRACE_PATH].
func (s *Session) TracePath() string { return s.base }

// Sent returns the packets and bytes sent so far on every stream,
// metadata included: what a status display shows as sent.
func (s *Session) Sent() (packets, bytes uint64) {
	s.ctrlMu.Lock()
	streams := s.streams
	s.ctrlMu.Unlock()
	for _, st := range streams {
		p, b := st.Sent()
		packets += p
		bytes += b
	}
	return packets, bytes
}

// AddStream announces a data stream called name (a file name such as
// "channel0_3") in the trace's directory. tracefileSize > 0 makes the
// relay start a new file (name_0, name_1, ...) every tracefileSize bytes.
// Streams added after [Session.StreamsSent] reach live readers at the next
// StreamsSent.
func (s *Session) AddStream(name string, tracefileSize uint64) (*Stream, error) {
	if name == "" || name == MetadataName || strings.ContainsAny(name, "/") || name == "." || name == ".." {
		return nil, s.errorf("add stream %q: %w: a stream name is a file name other than %q", name, ErrInvalid, MetadataName)
	}
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	if err := s.usable("add stream " + name); err != nil {
		return nil, err
	}
	return s.addStreamLocked(name, tracefileSize)
}

func (s *Session) addStreamLocked(name string, tracefileSize uint64) (*Stream, error) {
	op := fmt.Sprintf("add stream %q", name)
	payload, err := addStream{Channel: name, Path: s.base, TracefileSize: tracefileSize}.encode()
	if err != nil {
		return nil, s.errorf("%s: %w", op, err)
	}
	reply, err := s.roundTrip(op, cmdAddStream, payload, statusReplySize)
	if err != nil {
		return nil, err
	}
	st, _ := decodeStatusReply(reply)
	if st.Code != codeOK {
		return nil, s.fail(s.errorf("%s: %w with %s", op, ErrRefused, codeName(st.Code)))
	}
	stream := &Stream{s: s, name: name, handle: st.ID}
	s.streams = append(s.streams, stream)
	return stream, nil
}

// StreamsSent tells the relay that every stream added so far is
// announced: live readers see them from now on.
func (s *Session) StreamsSent() error {
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	if err := s.usable("streams sent"); err != nil {
		return err
	}
	return s.genericLocked("streams sent", cmdStreamsSent, nil)
}

// SendMetadata sends the trace's metadata text. text is the whole
// metadata: the first call sends it all, and later calls send only what
// text adds after the metadata already sent (event types registered at run
// time), which the relay appends. A text that does not extend the metadata
// sent fails with ErrMetadataRewritten and sends nothing.
func (s *Session) SendMetadata(text []byte) error {
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	if err := s.usable("send metadata"); err != nil {
		return err
	}
	if !bytes.HasPrefix(text, s.metaSent) {
		return s.errorf("send metadata: %w (%d bytes sent, new text differs within them)", ErrMetadataRewritten, len(s.metaSent))
	}
	for _, pkt := range metadataPackets(s.info.TraceUUID, text[len(s.metaSent):]) {
		// The relay does not answer metadata: a refusal shows as a closed
		// connection at the next command.
		if err := s.writeCtrl("send metadata", command(cmdSendMetadata, metadataPayload(s.meta.handle, pkt))); err != nil {
			return err
		}
		s.meta.packets.Add(1)
		s.meta.bytes.Add(uint64(len(pkt)))
	}
	s.metaSent = append(s.metaSent, text[len(s.metaSent):]...)
	return nil
}

// Close ends the session cleanly: it closes every stream at its last
// packet, then closes the data connection and waits until the relay has
// read all of it (the relay closes its end once it has written every
// packet), then closes the control connection, which ends the session for
// live readers. Close is idempotent; after it every method returns
// os.ErrClosed. If an earlier error broke the session, Close only releases
// the connections and returns an error wrapping ErrBroken.
func (s *Session) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	defer s.closeConns()
	if p := s.broken.Load(); p != nil {
		return s.errorf("close: %w: %w", ErrBroken, *p)
	}
	s.ctrlMu.Lock()
	streams := s.streams
	s.ctrlMu.Unlock()
	// Taking dataMu waits for packets in flight; their indexes follow
	// under ctrlMu, which the closes below wait for.
	s.dataMu.Lock()
	last := make([]uint64, len(streams))
	for i, st := range streams {
		last[i] = st.nextSeq - 1 // noSeq when none was sent
	}
	s.dataMu.Unlock()

	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	for i, st := range streams {
		if st == s.meta {
			// Metadata goes over the control connection and has no
			// sequence numbers.
			last[i] = noSeq
		}
		op := fmt.Sprintf("close stream %q", st.name)
		if err := s.genericLocked(op, cmdCloseStream, streamSeq{StreamID: st.handle, LastSeq: last[i]}.encode()); err != nil {
			return err
		}
	}
	if err := s.drainData(); err != nil {
		return s.fail(err)
	}
	if err := s.ctrl.Close(); err != nil {
		return s.errorf("close control connection: %w", err)
	}
	return nil
}

// drainData half-closes the data connection and reads until the relay
// closes its end: the relay reads a connection in order and closes it on
// end of file, so every packet is written by then.
func (s *Session) drainData() error {
	tcp, ok := s.data.(interface{ CloseWrite() error })
	if !ok {
		return nil
	}
	if err := tcp.CloseWrite(); err != nil {
		return s.errorf("close data connection: %w", err)
	}
	if err := s.data.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
		return s.errorf("close data connection: %w", err)
	}
	n, err := io.Copy(io.Discard, s.data)
	switch {
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		return s.errorf("close data connection: relay did not finish reading within %v: %w", s.timeout, err)
	case err != nil && !isReset(err):
		return s.errorf("close data connection: %w", err)
	case n > 0:
		return s.errorf("close data connection: %w: relay sent %d bytes on the data connection", ErrVersion, n)
	}
	return nil
}

// genericLocked sends a command whose reply is a bare code and checks it.
// ctrlMu is held.
func (s *Session) genericLocked(op string, cmd uint32, payload []byte) error {
	reply, err := s.roundTrip(op, cmd, payload, genericReplySize)
	if err != nil {
		return err
	}
	if code, _ := decodeGeneric(reply); code != codeOK {
		return s.fail(s.errorf("%s: %w with %s", op, ErrRefused, codeName(code)))
	}
	return nil
}

// roundTrip sends a control command and reads its replySize-byte reply.
// ctrlMu is held (or the session is not yet shared). A failure breaks the
// session.
func (s *Session) roundTrip(op string, cmd uint32, payload []byte, replySize int) ([]byte, error) {
	if p := s.broken.Load(); p != nil {
		return nil, s.errorf("%s: %w: %w", op, ErrBroken, *p)
	}
	if err := s.writeCtrl(op, command(cmd, payload)); err != nil {
		return nil, err
	}
	if err := s.ctrl.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
		return nil, s.fail(s.errorf("%s: %w", op, err))
	}
	reply := make([]byte, replySize)
	if _, err := io.ReadFull(s.ctrl, reply); err != nil {
		return nil, s.fail(s.ioError(op+": read reply", err))
	}
	return reply, nil
}

// writeCtrl writes b whole on the control connection. ctrlMu is held.
func (s *Session) writeCtrl(op string, b []byte) error {
	if err := s.ctrl.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return s.fail(s.errorf("%s: %w", op, err))
	}
	if _, err := s.ctrl.Write(b); err != nil {
		return s.fail(s.ioError(op, err))
	}
	return nil
}

// usable returns the error every operation gets on a closed or broken
// session.
func (s *Session) usable(op string) error {
	if p := s.broken.Load(); p != nil {
		return s.errorf("%s: %w: %w", op, ErrBroken, *p)
	}
	if s.closed.Load() {
		return s.errorf("%s: %w", op, os.ErrClosed)
	}
	return nil
}

// fail records err as the session's first failure and closes both
// connections, so the relay drops the session and no other caller waits
// on them. It returns err.
func (s *Session) fail(err error) error {
	if s.broken.CompareAndSwap(nil, &err) {
		s.closeConns()
	}
	return err
}

// closeConns closes both connections; it is safe while other goroutines
// use them (their I/O fails).
func (s *Session) closeConns() {
	if s.ctrl != nil {
		s.ctrl.Close()
	}
	if s.data != nil {
		s.data.Close()
	}
}

// errorf returns an error naming the relay's URL.
func (s *Session) errorf(format string, args ...any) error {
	return fmt.Errorf("relayd %s: "+format, append([]any{s.url}, args...)...)
}

// ioError describes a failed read or write: the peer closed, a deadline
// passed, or another network error.
func (s *Session) ioError(op string, err error) error {
	if p := s.broken.Load(); p != nil {
		// Another call broke the session and closed the connections
		// under this one: its error is the cause.
		return s.errorf("%s: %w: %w", op, ErrBroken, *p)
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
		return s.errorf("%s: %w (%v)", op, ErrPeerClosed, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return s.errorf("%s: no answer within %v: %w", op, s.timeout, err)
	}
	return s.errorf("%s: %w", op, err)
}
