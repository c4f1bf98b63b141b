package record

import (
	"errors"
	"fmt"
)

// Sentinel errors. Decoding functions ([OpenTrace], [Reader], [ParseMetadata],
// [ParsePacketHeader]) return them wrapped in a [*DecodeError] that says where
// the problem is; the other functions wrap them with a message. Compare with
// [errors.Is], never with ==.
var (
	// ErrTruncated: the data ends before the structure being read does: a
	// packet header shorter than [PacketHeaderSize], a packet whose
	// packet_size runs past the end of the file, or a record (header or
	// field) that runs past the packet's content_size.
	ErrTruncated = errors.New("truncated")

	// ErrBadMagic: a packet does not start with [PacketMagic].
	ErrBadMagic = errors.New("bad packet magic")

	// ErrUUIDMismatch: a packet's UUID differs from the trace UUID declared
	// in the metadata.
	ErrUUIDMismatch = errors.New("packet UUID does not match the trace UUID")

	// ErrUnknownStream: a packet's stream_id is not declared in the metadata.
	ErrUnknownStream = errors.New("unknown stream id")

	// ErrUnknownEvent: a record's event id is not declared in the metadata.
	ErrUnknownEvent = errors.New("unknown event id")

	// ErrContentSize: a packet's sizes are inconsistent: packet_size or
	// content_size not a whole number of bytes, packet_size smaller than the
	// packet header, content_size smaller than the header or larger than
	// packet_size.
	ErrContentSize = errors.New("bad packet content_size or packet_size")

	// ErrNoNUL: a string field has no terminating NUL before the end of the
	// packet's content.
	ErrNoNUL = errors.New("string without NUL terminator")

	// ErrBadMetadata: the TSDL metadata is malformed or describes a layout
	// this package does not implement.
	ErrBadMetadata = errors.New("bad metadata")

	// ErrTimestampOrder: timestamps decrease in stream order (a record
	// older than the previous record or than its packet's timestamp_begin,
	// a timestamp_end older than the packet's last record, a
	// timestamp_begin older than the previous packet's timestamp_end).
	ErrTimestampOrder = errors.New("timestamps decrease")

	// ErrPacketOrder: packet counters go backwards: packet_seq_num not
	// increasing or the cumulative events_discarded decreasing.
	ErrPacketOrder = errors.New("packet counters decrease")

	// ErrBadDecl: an event declaration is invalid: bad syntax, unknown
	// type, a name that is not an identifier or is reserved, a duplicate
	// field name. Returned by [ParseDecl], [NewEvent] and [Table.Add].
	ErrBadDecl = errors.New("bad event declaration")

	// ErrDuplicateEvent: [Table.Add] was given a name already in the table.
	ErrDuplicateEvent = errors.New("duplicate event name")

	// ErrBadValue: a field value does not parse or does not fit its type.
	// Returned by [ParseValue] and [Event.Check].
	ErrBadValue = errors.New("bad field value")
)

// DecodeError locates a decoding failure. Err wraps one of the sentinels
// above, so errors.Is(err, ErrTruncated) works through a *DecodeError.
//
// Its message is the one tools print as it is: "FILE: offset N: what was
// expected and found" (no FILE for a bare buffer), N being the decimal byte
// offset of the bad field, and the text after it starting with the
// sentinel's ("truncated: packet_size 4096 bytes but only 100 bytes left in
// the file").
type DecodeError struct {
	File   string // file being decoded; empty when decoding a bare buffer
	Offset int64  // byte offset in File (or in the buffer) of the bad field
	Err    error
}

func (e *DecodeError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// decodeErr builds a *DecodeError whose Err wraps sentinel with a message.
func decodeErr(file string, off int64, sentinel error, format string, args ...any) *DecodeError {
	msg := fmt.Sprintf(format, args...)
	return &DecodeError{File: file, Offset: off, Err: fmt.Errorf("%w: %s", sentinel, msg)}
}
