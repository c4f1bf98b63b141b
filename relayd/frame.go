package relayd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The relay protocol's frames (docs/ARCHITECTURE.md, "Relay protocol").
// Every integer is big-endian ("network order"); strings are NUL-padded
// fixed-size fields. Encoders write at named offsets into a fresh slice;
// decoders read what the encoders write, so the fake relay of the tests
// and the fuzz tests check both directions.

// Protocol version we announce. 2.8 is the newest minor whose create-session
// and add-stream commands carry names and paths directly (2.11 moved them to
// trace chunks) and whose index carries stream_instance_id and
// packet_seq_num.
const (
	VersionMajor = 2
	VersionMinor = 8
)

// Control commands (enum lttcomm_relayd_command).
const (
	cmdAddStream       = 1
	cmdCreateSession   = 2
	cmdVersion         = 5
	cmdSendMetadata    = 6
	cmdCloseStream     = 7
	cmdDataPending     = 8
	cmdQuiescent       = 9
	cmdBeginDataPend   = 10
	cmdEndDataPend     = 11
	cmdSendIndex       = 13
	cmdStreamsSent     = 16
	cmdFirstUnassigned = 18 // fuzz and fake-relay bound
)

// Reply codes (enum lttng_error_code) the relay answers with.
const (
	codeOK      = 10 // LTTNG_OK
	codeUnknown = 11 // LTTNG_ERR_UNK
	codeFatal   = 25 // LTTNG_ERR_FATAL
)

// Field sizes of the fixed-size string fields.
const (
	sessionNameField = 255 // LTTNG_NAME_MAX
	hostnameField    = 64  // LTTNG_HOST_NAME_MAX in lttng-tools 2.13
	channelNameField = 264 // DEFAULT_STREAM_NAME_LEN (LTTNG_SYMBOL_NAME_LEN + 8)
	pathnameField    = 4096
)

// Frame sizes.
const (
	ctrlHeaderSize    = 24 // circuit_id u64, data_size u64, cmd u32, cmd_version u32
	dataHeaderSize    = 32 // circuit_id u64, stream_id u64, net_seq_num u64, data_size u32, padding_size u32
	versionSize       = 8  // major u32, minor u32
	createSessionSize = sessionNameField + hostnameField + 4 + 4
	addStreamSize     = channelNameField + pathnameField + 8 + 8
	indexSize         = 10 * 8 // protocol 2.8 index
	closeStreamSize   = 16     // stream_id u64, last_net_seq_num u64
	dataPendingSize   = 16     // stream_id u64, last_net_seq_num u64
	metaPayloadHdr    = 12     // stream_id u64, padding_size u32
	genericReplySize  = 4      // ret_code u32
	statusReplySize   = 12     // id or handle u64, ret_code u32
)

// noSeq is the "no packet" sequence number (-1ULL).
const noSeq = ^uint64(0)

// ctrlHeader is the header of every control command.
type ctrlHeader struct {
	DataSize uint64 // payload bytes after the header
	Cmd      uint32
}

func (h ctrlHeader) encode() []byte {
	b := make([]byte, ctrlHeaderSize)
	// circuit_id at 0 stays 0: the relay ignores it.
	binary.BigEndian.PutUint64(b[8:], h.DataSize)
	binary.BigEndian.PutUint32(b[16:], h.Cmd)
	// cmd_version at 20 stays 0.
	return b
}

func decodeCtrlHeader(b []byte) (ctrlHeader, error) {
	if len(b) < ctrlHeaderSize {
		return ctrlHeader{}, errShort("control header", ctrlHeaderSize, len(b))
	}
	return ctrlHeader{DataSize: binary.BigEndian.Uint64(b[8:]), Cmd: binary.BigEndian.Uint32(b[16:])}, nil
}

// command returns a whole control command: header then payload.
func command(cmd uint32, payload []byte) []byte {
	return append(ctrlHeader{DataSize: uint64(len(payload)), Cmd: cmd}.encode(), payload...)
}

// dataHeader precedes every packet on the data connection.
type dataHeader struct {
	StreamID   uint64 // the relay's stream handle
	NetSeqNum  uint64 // per-stream network sequence number
	DataSize   uint32 // bytes that follow
	PaddingLen uint32 // zero bytes the relay appends after them
}

func (h dataHeader) encode() []byte {
	b := make([]byte, dataHeaderSize)
	binary.BigEndian.PutUint64(b[8:], h.StreamID)
	binary.BigEndian.PutUint64(b[16:], h.NetSeqNum)
	binary.BigEndian.PutUint32(b[24:], h.DataSize)
	binary.BigEndian.PutUint32(b[28:], h.PaddingLen)
	return b
}

func decodeDataHeader(b []byte) (dataHeader, error) {
	if len(b) < dataHeaderSize {
		return dataHeader{}, errShort("data header", dataHeaderSize, len(b))
	}
	return dataHeader{
		StreamID:   binary.BigEndian.Uint64(b[8:]),
		NetSeqNum:  binary.BigEndian.Uint64(b[16:]),
		DataSize:   binary.BigEndian.Uint32(b[24:]),
		PaddingLen: binary.BigEndian.Uint32(b[28:]),
	}, nil
}

// version is the payload of the version command and of its reply.
type version struct{ Major, Minor uint32 }

func (v version) encode() []byte {
	b := make([]byte, versionSize)
	binary.BigEndian.PutUint32(b[0:], v.Major)
	binary.BigEndian.PutUint32(b[4:], v.Minor)
	return b
}

func decodeVersion(b []byte) (version, error) {
	if len(b) < versionSize {
		return version{}, errShort("version", versionSize, len(b))
	}
	return version{Major: binary.BigEndian.Uint32(b[0:]), Minor: binary.BigEndian.Uint32(b[4:])}, nil
}

// createSession is the create-session payload of protocols 2.4 to 2.10.
type createSession struct {
	Name, Hostname string
	LiveTimerUS    uint32 // live timer period in microseconds, 0: not live
	Snapshot       bool
}

func (c createSession) encode() ([]byte, error) {
	b := make([]byte, createSessionSize)
	if err := putString(b[:sessionNameField], "session name", c.Name); err != nil {
		return nil, err
	}
	if err := putString(b[sessionNameField:sessionNameField+hostnameField], "hostname", c.Hostname); err != nil {
		return nil, err
	}
	off := sessionNameField + hostnameField
	binary.BigEndian.PutUint32(b[off:], c.LiveTimerUS)
	if c.Snapshot {
		binary.BigEndian.PutUint32(b[off+4:], 1)
	}
	return b, nil
}

func decodeCreateSession(b []byte) (createSession, error) {
	if len(b) < createSessionSize {
		return createSession{}, errShort("create session", createSessionSize, len(b))
	}
	off := sessionNameField + hostnameField
	return createSession{
		Name:        getString(b[:sessionNameField]),
		Hostname:    getString(b[sessionNameField:off]),
		LiveTimerUS: binary.BigEndian.Uint32(b[off:]),
		Snapshot:    binary.BigEndian.Uint32(b[off+4:]) != 0,
	}, nil
}

// addStream is the add-stream payload of protocols 2.2 to 2.10.
type addStream struct {
	Channel        string // file name of the stream; "metadata" makes it the metadata stream
	Path           string // directory, relative to the relay's output directory
	TracefileSize  uint64 // bytes per file before the relay starts a new one; 0: one file
	TracefileCount uint64 // files kept; 0: all
}

func (a addStream) encode() ([]byte, error) {
	b := make([]byte, addStreamSize)
	if err := putString(b[:channelNameField], "stream name", a.Channel); err != nil {
		return nil, err
	}
	if err := putString(b[channelNameField:channelNameField+pathnameField], "stream path", a.Path); err != nil {
		return nil, err
	}
	off := channelNameField + pathnameField
	binary.BigEndian.PutUint64(b[off:], a.TracefileSize)
	binary.BigEndian.PutUint64(b[off+8:], a.TracefileCount)
	return b, nil
}

func decodeAddStream(b []byte) (addStream, error) {
	if len(b) < addStreamSize {
		return addStream{}, errShort("add stream", addStreamSize, len(b))
	}
	off := channelNameField + pathnameField
	return addStream{
		Channel:        getString(b[:channelNameField]),
		Path:           getString(b[channelNameField:off]),
		TracefileSize:  binary.BigEndian.Uint64(b[off:]),
		TracefileCount: binary.BigEndian.Uint64(b[off+8:]),
	}, nil
}

// index is the send-index payload: what a live reader needs to find one
// packet without reading the stream file. Sizes are in bits, as in the
// packet context and the relay's index files.
type index struct {
	RelayStreamID    uint64
	NetSeqNum        uint64
	PacketSizeBits   uint64 // 0 makes the index a live beacon
	ContentSizeBits  uint64
	TimestampBegin   uint64
	TimestampEnd     uint64
	EventsDiscarded  uint64
	StreamID         uint64 // CTF stream class id
	StreamInstanceID uint64
	PacketSeqNum     uint64
}

func (x index) encode() []byte {
	b := make([]byte, indexSize)
	for i, v := range [...]uint64{
		x.RelayStreamID, x.NetSeqNum, x.PacketSizeBits, x.ContentSizeBits, x.TimestampBegin,
		x.TimestampEnd, x.EventsDiscarded, x.StreamID, x.StreamInstanceID, x.PacketSeqNum,
	} {
		binary.BigEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func decodeIndex(b []byte) (index, error) {
	if len(b) < indexSize {
		return index{}, errShort("index", indexSize, len(b))
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[8*i:]) }
	return index{u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(8), u(9)}, nil
}

// streamSeq is the payload of close-stream and data-pending: a stream
// handle and the sequence number of its last packet (noSeq: none).
type streamSeq struct{ StreamID, LastSeq uint64 }

func (s streamSeq) encode() []byte {
	b := make([]byte, closeStreamSize)
	binary.BigEndian.PutUint64(b[0:], s.StreamID)
	binary.BigEndian.PutUint64(b[8:], s.LastSeq)
	return b
}

func decodeStreamSeq(b []byte) (streamSeq, error) {
	if len(b) < closeStreamSize {
		return streamSeq{}, errShort("stream close", closeStreamSize, len(b))
	}
	return streamSeq{StreamID: binary.BigEndian.Uint64(b[0:]), LastSeq: binary.BigEndian.Uint64(b[8:])}, nil
}

// metadataPayload is the send-metadata payload: the metadata stream's
// handle, then bytes the relay appends to the metadata file.
func metadataPayload(stream uint64, data []byte) []byte {
	b := make([]byte, metaPayloadHdr, metaPayloadHdr+len(data))
	binary.BigEndian.PutUint64(b[0:], stream)
	// padding_size at 8 stays 0: metadata packets are sent whole.
	return append(b, data...)
}

func decodeMetadataPayload(b []byte) (stream uint64, data []byte, err error) {
	if len(b) < metaPayloadHdr {
		return 0, nil, errShort("metadata payload", metaPayloadHdr, len(b))
	}
	return binary.BigEndian.Uint64(b[0:]), b[metaPayloadHdr:], nil
}

// statusReply is the reply to create-session (session id) and to
// add-stream (stream handle).
type statusReply struct {
	ID   uint64
	Code uint32
}

func (r statusReply) encode() []byte {
	b := make([]byte, statusReplySize)
	binary.BigEndian.PutUint64(b[0:], r.ID)
	binary.BigEndian.PutUint32(b[8:], r.Code)
	return b
}

func decodeStatusReply(b []byte) (statusReply, error) {
	if len(b) < statusReplySize {
		return statusReply{}, errShort("status reply", statusReplySize, len(b))
	}
	return statusReply{ID: binary.BigEndian.Uint64(b[0:]), Code: binary.BigEndian.Uint32(b[8:])}, nil
}

func encodeGeneric(code uint32) []byte { return binary.BigEndian.AppendUint32(nil, code) }

func decodeGeneric(b []byte) (uint32, error) {
	if len(b) < genericReplySize {
		return 0, errShort("reply", genericReplySize, len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}

// putString writes s NUL-terminated into the fixed field f, which is
// already zeroed. s must leave room for the NUL and contain none.
func putString(f []byte, what, s string) error {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: %s %q contains NUL", ErrInvalid, what, s)
	case len(s) >= len(f):
		return fmt.Errorf("%w: %s %q is %d bytes, at most %d", ErrInvalid, what, s, len(s), len(f)-1)
	}
	copy(f, s)
	return nil
}

// getString reads a NUL-terminated string from the fixed field f.
func getString(f []byte) string {
	if i := indexNUL(f); i >= 0 {
		f = f[:i]
	}
	return string(f)
}

func indexNUL(f []byte) int {
	for i, c := range f {
		if c == 0 {
			return i
		}
	}
	return -1
}

// errShortFrame is wrapped by every decoder given too few bytes.
var errShortFrame = errors.New("short frame")

func errShort(what string, want, have int) error {
	return fmt.Errorf("%w: %s needs %d bytes, have %d", errShortFrame, what, want, have)
}

// codeName names the reply codes the relay sends.
func codeName(code uint32) string {
	switch code {
	case codeOK:
		return "LTTNG_OK"
	case codeUnknown:
		return "LTTNG_ERR_UNK"
	case codeFatal:
		return "LTTNG_ERR_FATAL"
	case 17:
		return "LTTNG_ERR_CREATE_DIR_FAIL"
	case 26:
		return "LTTNG_ERR_NOMEM"
	}
	return fmt.Sprintf("code %d", code)
}
