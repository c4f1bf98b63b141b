package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Local errors: what went wrong on this side of a socket. Compare with [errors.Is].
var (
	// ErrAlreadyRunning is returned by [Listen] when a server already answers at the path.
	ErrAlreadyRunning = errors.New("already running")
	// ErrPathTooLong is returned by [Listen] and [Dial] when a socket path does not fit in
	// sockaddr_un (107 bytes and a NUL).
	ErrPathTooLong = errors.New("socket path too long")
	// ErrMessageTooLarge is returned when a message exceeds [MaxMessageSize]: by Send before
	// anything is written, by Recv when the kernel reported MSG_TRUNC.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrTruncated is returned by Recv when the kernel truncated the ancillary data
	// (MSG_CTRUNC): some file descriptors were lost.
	ErrTruncated = errors.New("ancillary data truncated")
	// ErrFDCount is returned when a message carries more file descriptors than its type allows
	// (or, for a successful reply, not exactly the number its op promises). Every descriptor
	// that arrived has been closed.
	ErrFDCount = errors.New("wrong number of file descriptors")
	// ErrMalformed is returned when a message body is not a JSON object of the expected shape
	// (bad syntax, a field of the wrong type, a reply inconsistent with its op).
	ErrMalformed = errors.New("malformed message")
)

// Code is the machine-readable error code of a failed [Reply].
type Code string

// Error codes. A server may send a code not listed here; clients treat it like [CodeInternal].
const (
	CodeBadRequest  Code = "bad_request" // the request is malformed or its arguments are out of range
	CodeUnknownOp   Code = "unknown_op"  // the server does not know the op (or not on this socket)
	CodeUnsupported Code = "unsupported" // the op is known but not implemented by this server
	CodeBadState    Code = "bad_state"   // the trace is not in a state that allows the op
	CodeNotBound    Code = "not_bound"   // no VIRQ is bound yet (hypercall bind_virq first)
	CodeExists      Code = "exists"      // the thing to create exists already
	CodeNoTrace     Code = "no_trace"    // there is no trace to act on
	CodeNotFound    Code = "not_found"   // a named object (map id, event, cpu) does not exist
	CodeDenied      Code = "denied"      // the peer's uid is not allowed
	CodeBusy        Code = "busy"        // the role asked for is held by another process
	CodeUnavailable Code = "unavailable" // a server this one relays to is not reachable
	CodeInternal    Code = "internal"    // anything else

	// Codes of an emit that wrote nothing. Each one's text says what to do.
	CodeBufferFull    Code = "buffer_full"    // the record was dropped (and counted as lost): no free sub-buffer
	CodeEventDisabled Code = "event_disabled" // the trace does not record this event type: nothing written, nothing lost
	CodeTooLarge      Code = "too_large"      // over a documented limit (a record over a sub-buffer, a list over a cap); the text gives the limit
)

var codeText = map[Code]string{
	CodeBadRequest:  "bad request",
	CodeUnknownOp:   "unknown op",
	CodeUnsupported: "op not supported",
	CodeBadState:    "bad trace state",
	CodeNotBound:    "virq not bound",
	CodeExists:      "already exists",
	CodeNoTrace:     "no trace",
	CodeNotFound:    "not found",
	CodeDenied:      "permission denied",
	CodeBusy:        "busy",
	CodeUnavailable: "unavailable",
	CodeInternal:    "internal error",

	CodeBufferFull:    "buffer full",
	CodeEventDisabled: "event disabled",
	CodeTooLarge:      "too large",
}

// Remote errors: one sentinel per [Code]. A server wraps them
// (fmt.Errorf("trace_start in state %s: %w", st, wire.ErrBadState)), [ErrorReply] turns the
// error into a reply carrying the code and the full text, and on the client [Reply.Err] gives a
// [*RemoteError] for which errors.Is(err, wire.ErrBadState) holds.
//
// Do not modify these values.
var (
	ErrBadRequest  = &RemoteError{Code: CodeBadRequest}
	ErrUnknownOp   = &RemoteError{Code: CodeUnknownOp}
	ErrUnsupported = &RemoteError{Code: CodeUnsupported}
	ErrBadState    = &RemoteError{Code: CodeBadState}
	ErrNotBound    = &RemoteError{Code: CodeNotBound}
	ErrExists      = &RemoteError{Code: CodeExists}
	ErrNoTrace     = &RemoteError{Code: CodeNoTrace}
	ErrNotFound    = &RemoteError{Code: CodeNotFound}
	ErrDenied      = &RemoteError{Code: CodeDenied}
	ErrBusy        = &RemoteError{Code: CodeBusy}
	ErrUnavailable = &RemoteError{Code: CodeUnavailable}
	ErrInternal    = &RemoteError{Code: CodeInternal}

	ErrBufferFull    = &RemoteError{Code: CodeBufferFull}
	ErrEventDisabled = &RemoteError{Code: CodeEventDisabled}
	ErrTooLarge      = &RemoteError{Code: CodeTooLarge}
)

// RemoteError is an error with a machine-readable [Code]: either a sentinel (Msg empty) or a
// failure reported by the peer in a [Reply].
type RemoteError struct {
	Code Code   // machine-readable; see the Code* constants
	Msg  string // human-readable, the server's whole error text; may be empty
}

// Error returns Msg, or a description of Code when Msg is empty.
func (e *RemoteError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	if t, ok := codeText[e.Code]; ok {
		return t
	}
	if e.Code == "" {
		return string(CodeInternal)
	}
	return string(e.Code)
}

// Is reports whether target is a code-only *RemoteError (such as [ErrBadState]) with the same
// code, so that errors.Is matches a received error against the sentinels.
func (e *RemoteError) Is(target error) bool {
	t, ok := target.(*RemoteError)
	return ok && t.Msg == "" && t.Code == e.Code
}

// ErrorReply turns err into a failed [Reply]. Its code comes from the first [*RemoteError] in
// err's chain (errors.As), else [CodeInternal]; its text is err.Error().
func ErrorReply(err error) *Reply {
	code := CodeInternal
	var re *RemoteError
	if errors.As(err, &re) && re.Code != "" {
		code = re.Code
	}
	msg := string(code)
	if err != nil {
		msg = err.Error()
	}
	if len(msg) > MaxErrorText {
		// The text may quote the request (a declaration, a value): cut it so the reply
		// fits a message, on a UTF-8 boundary.
		cut := MaxErrorText
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = fmt.Sprintf("%s… (%d bytes left out)", msg[:cut], len(msg)-cut)
	}
	return &Reply{OK: false, Code: code, Error: msg}
}

// MaxErrorText bounds the text of a failed [Reply] ([ErrorReply] cuts a longer one), so that
// an error quoting a large request still fits a message.
const MaxErrorText = 8 << 10

// Err returns nil for a successful reply, else a [*RemoteError] with the reply's code and text.
func (r *Reply) Err() error {
	if r.OK {
		return nil
	}
	code := r.Code
	if code == "" {
		code = CodeInternal
	}
	return &RemoteError{Code: code, Msg: r.Error}
}
