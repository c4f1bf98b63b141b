package relayd

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// Stream is one stream of a [Session]: a file in the relay's trace
// directory, fed with whole CTF packets.
type Stream struct {
	s      *Session
	name   string
	handle uint64 // the relay's stream handle

	nextSeq uint64 // next network sequence number; owned by s.dataMu

	// Last packet's index fields, for beacons; owned by s.ctrlMu.
	streamID, instanceID uint64

	packets, bytes atomic.Uint64 // sent, for status displays
}

// PacketIndex is what the relay's index of a packet holds besides its
// offset: the packet's context fields, which the caller knows (it wrote
// them). Timestamps are in clock cycles.
type PacketIndex struct {
	ContentSize      uint64 // bytes of the packet up to the end of its last event (content_size/8)
	TimestampBegin   uint64
	TimestampEnd     uint64
	EventsDiscarded  uint64 // cumulative, as in the packet context
	StreamID         uint64 // CTF stream class id (packet header stream_id)
	StreamInstanceID uint64 // which stream of the class (the pCPU)
	PacketSeqNum     uint64 // packet_seq_num of the packet context
}

// Name returns the stream's name.
func (st *Stream) Name() string { return st.name }

// Sent returns the packets and bytes sent on the stream so far (bytes
// count whole packets, padding included).
func (st *Stream) Sent() (packets, bytes uint64) { return st.packets.Load(), st.bytes.Load() }

// SendPacket sends one CTF packet and its index. pkt is the whole packet
// (header, context, events, then padding up to packet_size); the bytes
// past idx.ContentSize are not sent: the relay writes zeros in their place.
// The data goes first on the data connection, then the index on the
// control connection, whose reply SendPacket waits for: when it returns
// nil the relay has the index and the packet's bytes are in the data
// connection ahead of everything sent later. (A relay that dies may lose
// the packets it had not read yet; see docs/ARCHITECTURE.md, "Relay
// protocol".) Any failure breaks the session.
func (st *Stream) SendPacket(pkt []byte, idx PacketIndex) error {
	s := st.s
	op := fmt.Sprintf("send packet on %q", st.name)
	if idx.ContentSize == 0 || idx.ContentSize > uint64(len(pkt)) || uint64(len(pkt)) > math.MaxUint32 {
		return s.errorf("%s: %w: content size %d bytes in a %d-byte packet", op, ErrInvalid, idx.ContentSize, len(pkt))
	}

	s.dataMu.Lock()
	if err := s.usable(op); err != nil {
		s.dataMu.Unlock()
		return err
	}
	seq := st.nextSeq
	hdr := dataHeader{StreamID: st.handle, NetSeqNum: seq, DataSize: uint32(idx.ContentSize), PaddingLen: uint32(uint64(len(pkt)) - idx.ContentSize)}
	bufs := net.Buffers{hdr.encode(), pkt[:idx.ContentSize]}
	err := s.data.SetWriteDeadline(time.Now().Add(s.timeout))
	if err == nil {
		_, err = bufs.WriteTo(s.data)
	}
	if err == nil {
		st.nextSeq++
	}
	s.dataMu.Unlock()
	if err != nil {
		return s.fail(s.ioError(op, err))
	}

	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	st.streamID, st.instanceID = idx.StreamID, idx.StreamInstanceID
	x := index{
		RelayStreamID:    st.handle,
		NetSeqNum:        seq,
		PacketSizeBits:   uint64(len(pkt)) * 8,
		ContentSizeBits:  idx.ContentSize * 8,
		TimestampBegin:   idx.TimestampBegin,
		TimestampEnd:     idx.TimestampEnd,
		EventsDiscarded:  idx.EventsDiscarded,
		StreamID:         idx.StreamID,
		StreamInstanceID: idx.StreamInstanceID,
		PacketSeqNum:     idx.PacketSeqNum,
	}
	if err := s.genericLocked(op+": index", cmdSendIndex, x.encode()); err != nil {
		return err
	}
	st.packets.Add(1)
	st.bytes.Add(uint64(len(pkt)))
	return nil
}

// SendBeacon tells live readers that the stream has no packet up to
// timestamp tsEnd (clock cycles), so they can go on with the other
// streams instead of waiting for this one: LTTng's live beacon, an index
// with no packet. A live consumer sends one for every idle stream at each
// live timer period, with the clock read for that stream.
//
// The relay takes a beacon only from a stream whose packets it has all
// written; SendBeacon first asks it (data pending) and sends nothing when
// the stream's last packet is still on its way: it returns false, and the
// next period's beacon will do. A stream that has never sent a packet
// cannot send a beacon (ErrInvalid): send it an empty packet (header and
// context, no event) instead.
func (st *Stream) SendBeacon(tsEnd uint64) (sent bool, err error) {
	s := st.s
	op := fmt.Sprintf("send beacon on %q", st.name)
	s.dataMu.Lock()
	last := st.nextSeq - 1
	s.dataMu.Unlock()
	if last == noSeq {
		return false, s.errorf("%s: %w: the stream has sent no packet yet (send an empty packet)", op, ErrInvalid)
	}
	s.ctrlMu.Lock()
	defer s.ctrlMu.Unlock()
	if err := s.usable(op); err != nil {
		return false, err
	}
	reply, err := s.roundTrip(op+": data pending", cmdDataPending, streamSeq{StreamID: st.handle, LastSeq: last}.encode(), genericReplySize)
	if err != nil {
		return false, err
	}
	switch pending, _ := decodeGeneric(reply); pending {
	case 0:
	case 1:
		return false, nil
	default:
		return false, s.fail(s.errorf("%s: data pending: %w with %s", op, ErrRefused, codeName(pending)))
	}
	x := index{
		RelayStreamID:    st.handle,
		NetSeqNum:        noSeq,
		TimestampEnd:     tsEnd,
		StreamID:         st.streamID,
		StreamInstanceID: st.instanceID,
	}
	if err := s.genericLocked(op, cmdSendIndex, x.encode()); err != nil {
		return false, err
	}
	return true, nil
}

// isReset reports a connection the peer reset or whose pipe broke.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
