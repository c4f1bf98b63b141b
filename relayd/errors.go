package relayd

import "errors"

// Errors of this package, compared with errors.Is. Every error also names
// the relay's URL and what was being done. Use of a closed [Session]
// returns os.ErrClosed; a deadline passing returns an error wrapping
// os.ErrDeadlineExceeded.
var (
	// ErrBadURL: a destination URL that ParseURL refuses.
	ErrBadURL = errors.New("bad URL")
	// ErrInvalid: an argument the protocol cannot carry (a name too long
	// or holding NUL, a packet whose sizes do not fit).
	ErrInvalid = errors.New("invalid argument")
	// ErrRefused: the relay answered a command with an error code.
	ErrRefused = errors.New("relay refused")
	// ErrVersion: the peer speaks another major protocol version, or
	// answered the version command with something that is not a version.
	ErrVersion = errors.New("incompatible relay protocol")
	// ErrPeerClosed: the relay closed a connection.
	ErrPeerClosed = errors.New("relay closed the connection")
	// ErrBroken: an earlier failure left the session's connections in an
	// unknown state; the session must be closed and dialed again.
	ErrBroken = errors.New("session broken by an earlier error")
	// ErrMetadataRewritten: metadata given to SendMetadata does not extend
	// the metadata already sent (a relay only appends).
	ErrMetadataRewritten = errors.New("metadata does not extend what was sent")
)
