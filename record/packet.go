package record

import "encoding/binary"

// Packet layout (docs/ARCHITECTURE.md, "Packet layout"): one sub-buffer is
// one CTF packet. Offsets are from the packet's first byte; all integers are
// little-endian. [packetLayout] names each field's offset, type and scope
// once for the writer, the metadata generator and its checker (layout.go).
const (
	PacketMagic uint32 = 0xC1FC1FC1

	OffMagic           = 0  // u32 packet header: PacketMagic
	OffUUID            = 4  // 16 bytes packet header: trace UUID
	OffStreamID        = 20 // u32 packet header: stream id
	OffTimestampBegin  = 24 // u64 packet context: first timestamp of the packet
	OffTimestampEnd    = 32 // u64 packet context: last timestamp of the packet
	OffContentSize     = 40 // u64 packet context: bits up to the end of the last record
	OffPacketSize      = 48 // u64 packet context: bits in the whole packet
	OffPacketSeqNum    = 56 // u64 packet context: packet sequence number
	OffEventsDiscarded = 64 // u64 packet context: cumulative lost records
	OffCPUID           = 72 // u32 packet context: cpu_id, the pCPU whose stream holds the packet
	// PacketContextEnd is where the packet context ends: the content_size
	// of a packet with no record. It must not be PacketHeaderSize: a CTF
	// reader that finds content bits left after the context reads an event
	// header there (babeltrace2's live reader then fails on the padding).
	PacketContextEnd = 76
	// 76..79: padding, so that the first record is 8-aligned.
	PacketHeaderSize = 80 // first record
)

// packetLayout is the packet header and context (docs/ARCHITECTURE.md,
// "Packet layout"), in order. The first record follows at
// [PacketHeaderSize].
var packetLayout = []layoutField{
	{scope: scopePacketHeader, name: "magic", off: OffMagic, bits: 32},
	{scope: scopePacketHeader, name: "uuid", off: OffUUID, bits: 8, array: 16},
	{scope: scopePacketHeader, name: "stream_id", off: OffStreamID, bits: 32},
	{scope: scopePacketContext, name: "timestamp_begin", off: OffTimestampBegin, bits: 64, clock: true},
	{scope: scopePacketContext, name: "timestamp_end", off: OffTimestampEnd, bits: 64, clock: true},
	{scope: scopePacketContext, name: "content_size", off: OffContentSize, bits: 64},
	{scope: scopePacketContext, name: "packet_size", off: OffPacketSize, bits: 64},
	{scope: scopePacketContext, name: "packet_seq_num", off: OffPacketSeqNum, bits: 64},
	{scope: scopePacketContext, name: "events_discarded", off: OffEventsDiscarded, bits: 64},
	{scope: scopePacketContext, name: "cpu_id", off: OffCPUID, bits: 32},
}

// PacketInfo is a packet's header and context.
type PacketInfo struct {
	Magic           uint32
	UUID            [16]byte
	StreamID        uint32
	TimestampBegin  uint64
	TimestampEnd    uint64
	ContentSize     uint64 // bits
	PacketSize      uint64 // bits
	SeqNum          uint64
	EventsDiscarded uint64 // cumulative since the trace began
	CPU             uint32 // cpu_id: the pCPU whose stream holds the packet
}

// ContentBytes returns the content size in bytes.
func (p PacketInfo) ContentBytes() uint64 { return p.ContentSize / 8 }

// PacketBytes returns the packet size in bytes.
func (p PacketInfo) PacketBytes() uint64 { return p.PacketSize / 8 }

// OpenPacket writes the header of a new packet into pkt, a whole sub-buffer:
// magic, uuid, streamID, cpu_id = cpu, timestamp_begin = tsBegin,
// packet_seq_num = seq, packet_size = len(pkt)×8, and zeroes the padding
// before the first record. It does not touch timestamp_end, content_size
// or events_discarded: those are [ClosePacket]'s, and in the lock-free
// channel the writer that closes a packet may run before the one that
// opened it has written its header (both happen after the opener's CAS).
// Records follow at [PacketHeaderSize]. pkt must be at least
// PacketHeaderSize bytes.
func OpenPacket(pkt []byte, uuid [16]byte, streamID, cpu uint32, seq, tsBegin uint64) {
	_ = pkt[PacketHeaderSize-1]
	binary.LittleEndian.PutUint32(pkt[OffMagic:], PacketMagic)
	copy(pkt[OffUUID:OffUUID+16], uuid[:])
	binary.LittleEndian.PutUint32(pkt[OffStreamID:], streamID)
	binary.LittleEndian.PutUint64(pkt[OffTimestampBegin:], tsBegin)
	binary.LittleEndian.PutUint64(pkt[OffPacketSize:], uint64(len(pkt))*8)
	binary.LittleEndian.PutUint64(pkt[OffPacketSeqNum:], seq)
	binary.LittleEndian.PutUint32(pkt[OffCPUID:], cpu)
	clear(pkt[OffCPUID+4 : PacketHeaderSize])
}

// ClosePacket completes the context of a packet opened with [OpenPacket]:
// timestamp_end = tsEnd, content_size = contentBytes×8 (contentBytes is the
// exact end of the last record, with no padding after it) and the
// cumulative events_discarded. Bytes of pkt past contentBytes are left as
// they are: readers ignore them.
func ClosePacket(pkt []byte, tsEnd, contentBytes, discarded uint64) {
	_ = pkt[PacketHeaderSize-1]
	binary.LittleEndian.PutUint64(pkt[OffTimestampEnd:], tsEnd)
	binary.LittleEndian.PutUint64(pkt[OffContentSize:], contentBytes*8)
	binary.LittleEndian.PutUint64(pkt[OffEventsDiscarded:], discarded)
}

// ParsePacketHeader reads the packet header and context at the start of b
// and checks them on their own: b holds at least [PacketHeaderSize] bytes
// ([ErrTruncated]), the magic ([ErrBadMagic]), and the sizes
// ([ErrContentSize]: packet_size and content_size whole bytes, content_size
// at least the header and at most packet_size). It does not check the UUID,
// the stream id or that the packet fits its file: [Reader] does. Errors are
// [*DecodeError] values whose Offset is that of the bad field in b.
func ParsePacketHeader(b []byte) (PacketInfo, error) {
	var p PacketInfo
	if len(b) < PacketHeaderSize {
		return p, decodeErr("", 0, ErrTruncated, "packet header needs %d bytes, have %d", PacketHeaderSize, len(b))
	}
	p.Magic = binary.LittleEndian.Uint32(b[OffMagic:])
	copy(p.UUID[:], b[OffUUID:OffUUID+16])
	p.StreamID = binary.LittleEndian.Uint32(b[OffStreamID:])
	p.TimestampBegin = binary.LittleEndian.Uint64(b[OffTimestampBegin:])
	p.TimestampEnd = binary.LittleEndian.Uint64(b[OffTimestampEnd:])
	p.ContentSize = binary.LittleEndian.Uint64(b[OffContentSize:])
	p.PacketSize = binary.LittleEndian.Uint64(b[OffPacketSize:])
	p.SeqNum = binary.LittleEndian.Uint64(b[OffPacketSeqNum:])
	p.EventsDiscarded = binary.LittleEndian.Uint64(b[OffEventsDiscarded:])
	p.CPU = binary.LittleEndian.Uint32(b[OffCPUID:])
	if p.Magic != PacketMagic {
		return p, decodeErr("", OffMagic, ErrBadMagic, "magic %#08x, want %#08x", p.Magic, PacketMagic)
	}
	switch {
	case p.PacketSize%8 != 0:
		return p, decodeErr("", OffPacketSize, ErrContentSize, "packet_size %d bits is not a whole number of bytes", p.PacketSize)
	case p.PacketSize < PacketHeaderSize*8:
		return p, decodeErr("", OffPacketSize, ErrContentSize, "packet_size %d bits is smaller than the %d-byte header", p.PacketSize, PacketHeaderSize)
	case p.ContentSize%8 != 0:
		return p, decodeErr("", OffContentSize, ErrContentSize, "content_size %d bits is not a whole number of bytes", p.ContentSize)
	case p.ContentSize < PacketHeaderSize*8 && p.ContentSize != PacketContextEnd*8:
		return p, decodeErr("", OffContentSize, ErrContentSize, "content_size %d bits is smaller than the %d-byte header (an empty packet's is %d bits)", p.ContentSize, PacketHeaderSize, PacketContextEnd*8)
	case p.ContentSize > p.PacketSize:
		return p, decodeErr("", OffContentSize, ErrContentSize, "content_size %d bits exceeds packet_size %d bits", p.ContentSize, p.PacketSize)
	}
	return p, nil
}
