package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// Salvage: how a [Reader] in [Salvage] mode gets past damage.
//
// Damage is any [*DecodeError]: a packet header that does not check, a
// record that does not decode, a packet cut by the end of the file. The
// records before it have been returned. The Reader then
//
//  1. forgets the packet being read, if any: the ordering state goes back
//     to the end of the last packet decoded to its end (the damaged
//     packet's own counters may be what is damaged), keeping only the
//     timestamp of the last record returned;
//  2. scans the file, from the first byte it has not returned, for the
//     next offset holding the packet magic followed by the trace UUID (20
//     bytes no record or foreign file holds by chance) where a header
//     passes every check a packet must pass in its place: magic, UUID and
//     stream id; content_size and packet_size whole bytes with
//     content_size <= packet_size; timestamp_begin <= timestamp_end and
//     not before the last timestamp; packet_seq_num above the last good
//     packet's and events_discarded not below its count. The packet may
//     run past the end of the file (a cut last packet: its whole records
//     are recovered);
//  3. reports the bytes from where it stopped to that offset (or to the
//     end of the file) as a [Skip], and decodes on from there.
//
// The scan looks at every byte offset, not only 8-byte aligned ones, so a
// foreign block of any length inserted between packets is stepped over.
//
// Before a packet whose header checks becomes the reference for the next
// ones, [Reader.plausible] takes a second look, so that one absurd value
// (a packet_seq_num, events_discarded or timestamp_end raised far ahead, a
// packet_size covering the packets after it or running past the end of the
// file) cannot make every later packet look out of order or hide them as
// its padding:
//
//   - packet_size: when it differs from the previous packet's (every packet
//     of a stream is one sub-buffer), or, for the first packet, is not a
//     power of two or runs past the end of the file, a packet that agrees
//     with this one's counters must not start inside it (after its
//     content);
//   - the counters: when the next packet (at this one's packet_size) agrees
//     with the packet before this one, it must agree with this one too:
//     packet_seq_num increasing, events_discarded not decreasing,
//     timestamp_begin not before this one's timestamp_end.
//
// A field that fails is replaced by the bound its neighbours give and
// reported as a Skip of no bytes and no packet: the packet's records are
// decoded as usual and the packets after it are checked against sane
// values, so nothing is skipped that is not damaged.
//
// Limits. Damage that still decodes is not seen: a payload integer
// changed, or a string's bytes. The last packet of the file has no next
// packet to be compared with: its raised counters are taken as they are.

// scanChunk is how many bytes the resynchronisation scan reads at a time.
const scanChunk = 64 << 10

// Skip is a region of a stream file that a [Reader] in [Salvage] mode
// passed over because it was damaged.
type Skip struct {
	File   string
	Offset int64 // first byte skipped: the bad packet's, or the first byte after the last record decoded in it
	Size   int64 // bytes skipped (decoding resumed at Offset+Size); 0 when the file ends in a packet's padding, no record lost
	// Packets is how many packets the region held, as far as can be told:
	// when a valid packet follows it, the packet_seq_num values missing
	// before that packet (counting the damaged packet whose first records
	// were recovered; 0 for foreign bytes between two packets); at the end
	// of the file, 1 if the region starts in a packet (its header read, or
	// the packet magic and trace UUID at its start), else 0.
	Packets uint64
	// Err is the damage found, a [*DecodeError] naming the bad field.
	Err error
}

// Skips returns the regions the Reader has skipped so far, in file order
// (Salvage mode; none in the other modes).
func (r *Reader) Skips() []Skip { return slices.Clone(r.skips) }

func (r *Reader) addSkip(s Skip) {
	r.skips = append(r.skips, s)
	r.totals.SkippedBytes += s.Size
	r.totals.SkippedPackets += s.Packets
}

// resync skips the damage de and positions the Reader on the next valid
// packet, or at the end of the file. It fails only if the file cannot be
// read.
func (r *Reader) resync(de *DecodeError) error {
	var start, from int64
	var firstLost uint64 // packet_seq_num of the first packet not decoded to its end
	var inPacket uint64  // 1 if the damage is inside a packet whose header was read
	if r.open {
		start = r.pkt.Offset + int64(r.cur)
		from = start // a header there is checked too
		firstLost, inPacket = r.pkt.SeqNum, 1
	} else {
		start = r.next
		from = start + 1
		if r.good.started {
			firstLost = r.good.seq + 1
		}
	}
	hadRecords := r.open && r.pkt.Records > 0
	r.open, r.cut, r.cutErr, r.padErr = false, false, nil, nil
	r.ord = r.good
	if hadRecords {
		r.ord.ts = max(r.ord.ts, r.recTS)
	}
	resume, seq, found, err := r.scan(from)
	if err != nil {
		return err
	}
	s := Skip{File: r.name, Offset: start, Size: resume - start, Err: de}
	switch {
	case found:
		s.Packets = inPacket
		if seq > firstLost {
			s.Packets = max(seq-firstLost, inPacket)
		}
	case inPacket == 1:
		s.Packets = 1
	default:
		s.Packets = r.startsPacket(start)
	}
	r.addSkip(s)
	r.next = resume
	return nil
}

// packetPrefix returns the first 20 bytes of every packet of the trace:
// the magic, little-endian, and the UUID.
func (r *Reader) packetPrefix() [OffStreamID]byte {
	var p [OffStreamID]byte
	binary.LittleEndian.PutUint32(p[OffMagic:], PacketMagic)
	copy(p[OffUUID:], r.t.Info.UUID[:])
	return p
}

// startsPacket returns 1 if the bytes at off are a packet's magic and the
// trace UUID, else 0.
func (r *Reader) startsPacket(off int64) uint64 {
	prefix := r.packetPrefix()
	var b [len(prefix)]byte
	if r.size-off < int64(len(b)) || r.readAt(b[:], off) != nil || b != prefix {
		return 0
	}
	return 1
}

// scan returns the first offset at or after from where a valid packet
// starts (see the comment at the top of this file) and its
// packet_seq_num, or the file size and found = false.
func (r *Reader) scan(from int64) (off int64, seq uint64, found bool, err error) {
	prefix := r.packetPrefix()
	buf := make([]byte, scanChunk)
	for pos := from; r.size-pos >= PacketHeaderSize; {
		n := int(min(int64(len(buf)), r.size-pos))
		if err := r.readAt(buf[:n], pos); err != nil {
			var de *DecodeError
			if errors.As(err, &de) { // the file shrank: nothing more to find
				break
			}
			return 0, 0, false, err
		}
		i := bytes.Index(buf[:n], prefix[:])
		if i < 0 {
			if int64(n) == r.size-pos {
				break
			}
			pos += int64(n - len(prefix) + 1) // a prefix may straddle chunks
			continue
		}
		cand := pos + int64(i)
		info, _, err := r.checkHeader(cand)
		var de *DecodeError
		switch {
		case err == nil:
			return cand, info.SeqNum, true, nil
		case !errors.As(err, &de):
			return 0, 0, false, err
		}
		pos = cand + 1
	}
	return r.size, 0, false, nil
}

// plausible is Salvage mode's second look at the header info of the packet
// at off, which passed [Reader.checkHeader] against r.ord (see the comment
// at the top of this file). A field found out of line is replaced in info
// by the bound the neighbouring packets give, and reported as a [Skip] of
// no bytes and no packet (the packet's records are still decoded): the
// packet_size by the distance to the next packet, packet_seq_num by one
// below the next packet's, events_discarded by the previous packet's,
// timestamp_end by the next packet's timestamp_begin. It returns whether
// the file holds the whole packet (as corrected); an error only if the
// file cannot be read.
func (r *Reader) plausible(off int64, info *PacketInfo) (whole bool, err error) {
	size := info.PacketBytes()
	var stream uint64 // the stream's packet size, when a packet was decoded
	if r.havePkt {
		stream = r.pkt.PacketBytes()
	}
	suspicious := size != stream
	if stream == 0 {
		suspicious = size&(size-1) != 0 || size > uint64(r.size-off)
	}
	if suspicious {
		saved := r.ord
		r.ord = order{started: true, seq: info.SeqNum, disc: info.EventsDiscarded, ts: info.TimestampEnd}
		next, _, found, err := r.scan(off + int64(info.ContentBytes()))
		r.ord = saved
		if err != nil {
			return false, err
		}
		if found && uint64(next-off) < size {
			r.outOfLine(off+OffPacketSize, ErrContentSize, "packet_size %d bytes, but the next packet starts %d bytes in", size, next-off)
			info.PacketSize = uint64(next-off) * 8
		}
	}
	whole = info.PacketBytes() <= uint64(r.size-off)
	y, ok := r.headerAt(off + int64(info.PacketBytes()))
	if !ok || (r.ord.started && (y.SeqNum <= r.ord.seq || y.EventsDiscarded < r.ord.disc || y.TimestampBegin < r.ord.ts)) {
		return whole, nil // no next packet, or it does not agree with the one before this one either
	}
	if y.SeqNum <= info.SeqNum {
		r.outOfLine(off+OffPacketSeqNum, ErrPacketOrder, "packet_seq_num %d is out of line: the next packet's is %d", info.SeqNum, y.SeqNum)
		info.SeqNum = y.SeqNum - 1
	}
	if y.EventsDiscarded < info.EventsDiscarded {
		r.outOfLine(off+OffEventsDiscarded, ErrPacketOrder, "events_discarded %d is out of line: the next packet's is %d", info.EventsDiscarded, y.EventsDiscarded)
		info.EventsDiscarded = r.ord.disc
	}
	if y.TimestampBegin < info.TimestampEnd {
		r.outOfLine(off+OffTimestampEnd, ErrTimestampOrder, "timestamp_end %d is out of line: the next packet begins at %d", info.TimestampEnd, y.TimestampBegin)
		info.TimestampEnd = y.TimestampBegin
	}
	return whole, nil
}

// outOfLine reports a header field at off found out of line and replaced:
// a Skip of nothing.
func (r *Reader) outOfLine(off int64, sentinel error, format string, args ...any) {
	r.addSkip(Skip{File: r.name, Offset: off, Err: r.fail(off, sentinel, format, args...)})
}

// headerAt returns the header of the packet of this trace's stream at off,
// if one is there (whole, with the magic, the trace UUID and sizes that
// check on their own).
func (r *Reader) headerAt(off int64) (PacketInfo, bool) {
	var b [PacketHeaderSize]byte
	if off < 0 || r.size-off < PacketHeaderSize || r.readAt(b[:], off) != nil {
		return PacketInfo{}, false
	}
	info, err := ParsePacketHeader(b[:])
	if err != nil || info.UUID != r.t.Info.UUID || info.StreamID != StreamID {
		return PacketInfo{}, false
	}
	return info, true
}
