package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Mode is how a [Reader] treats damage and the end of its stream; set it
// with [Reader.SetMode] before reading.
type Mode uint8

const (
	// Strict: the first damage stops the Reader, which returns that
	// [*DecodeError] from every later call. The default.
	Strict Mode = iota

	// Salvage: damage is skipped, never returned. The records before it
	// are returned as usual; the Reader then resynchronises on the next
	// valid packet (see salvage.go) and goes on from there, and the bytes
	// it passed over are reported by [Reader.Skips]. A packet cut by the
	// end of the file gives the records that are whole in it. Only a
	// failure to read the file (not a *DecodeError) is returned.
	Salvage

	// Tail: the stream is still being written, a whole packet at a time.
	// A packet the file does not hold whole yet (a partial header, or
	// fewer than packet_size bytes) is not damage: the Reader returns
	// io.EOF before it, leaves it unread, and reads it once [Reader.Grow]
	// says the file holds it. Damage is an error, as in Strict mode.
	Tail
)

// Totals are a [Reader]'s running counts, from [Reader.Totals].
type Totals struct {
	Packets   uint64 // packets decoded to their end (a damaged one is not)
	Records   uint64 // records decoded: returned by Next and NextInto, or counted in a packet by NextPacket
	Discarded uint64 // records the writer discarded: the sum of those packets' [Packet.Discarded]

	// Salvage mode: the bytes skipped as damaged and how many packets
	// they held (the sums of [Skip.Size] and [Skip.Packets]).
	SkippedBytes   int64
	SkippedPackets uint64
}

// Reader decodes one stream: its packets, and the records in them, checking
// everything docs/ARCHITECTURE.md promises (see the sentinels in errors.go).
// A Reader is not safe for concurrent use. In [Strict] and [Tail] modes,
// after a decoding error every later call returns the same error.
type Reader struct {
	t      *Trace
	name   string
	src    io.ReaderAt
	size   int64
	closer io.Closer
	mode   Mode

	next    int64  // file offset of the next packet
	buf     []byte // current packet's content (header included), as far as the file holds it
	cur     int    // offset in buf of the next record
	open    bool   // a packet is being read
	pkt     Packet // current packet
	havePkt bool   // pkt is the packet of the last record or packet returned
	// cut: Salvage mode, the file ends before the current packet's
	// content does (buf holds what there is); cutErr says so. padErr:
	// it ends in the packet's padding, after its content.
	cut    bool
	cutErr error
	padErr error

	ord   order // what the next packet and record are checked against
	good  order // ord at the end of the last packet decoded to its end
	recTS uint64

	totals Totals
	skips  []Skip
	arena  []byte // strings and byte fields are carved from it (see keep)
	hdr    [PacketHeaderSize]byte
	err    error // sticky decoding or read error
}

// order is the state the ordering checks compare a packet or a record
// with.
type order struct {
	started bool   // a packet has been accepted
	seq     uint64 // its packet_seq_num
	disc    uint64 // its events_discarded
	ts      uint64 // latest timestamp seen (record or packet bound)
}

// SetMode sets how the Reader treats damage and the end of the stream
// ([Strict] by default). Call it before the first read.
func (r *Reader) SetMode(m Mode) { r.mode = m }

// Grow tells the Reader its stream now holds size bytes: the file was
// appended to since the Reader was created (see [Tail]). A size below the
// current one is ignored.
func (r *Reader) Grow(size int64) {
	r.size = max(r.size, size)
}

// Name returns the stream's name: the File of its records and errors.
func (r *Reader) Name() string { return r.name }

// Size returns the stream size the Reader decodes up to.
func (r *Reader) Size() int64 { return r.size }

// Offset returns the file offset of the first byte the Reader has not
// decoded yet: where the next record or packet starts, or the end of the
// last whole packet at io.EOF.
func (r *Reader) Offset() int64 {
	if r.open {
		return r.pkt.Offset + int64(r.cur)
	}
	return r.next
}

// SetTrace makes the Reader decode the rest of its stream with the event
// types of t, a newer version of the same trace's metadata (one that
// declares event types registered since). It fails if t is another trace
// (its UUID differs).
func (r *Reader) SetTrace(t *Trace) error {
	if t.Info.UUID != r.t.Info.UUID {
		return fmt.Errorf("%w: new metadata has trace UUID %s, the stream's is %s",
			ErrUUIDMismatch, FormatUUID(t.Info.UUID), FormatUUID(r.t.Info.UUID))
	}
	r.t = t
	return nil
}

// Close closes the stream file if the Reader opened it. It is idempotent.
func (r *Reader) Close() error {
	c := r.closer
	r.closer = nil
	if c == nil {
		return nil
	}
	return c.Close()
}

// Next returns the next record of the stream, crossing packets as needed,
// or io.EOF after the last one. The record is the caller's; see
// [Reader.NextInto] for the one that reuses a Record.
func (r *Reader) Next() (Record, error) {
	var rec Record
	if err := r.NextInto(&rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// NextInto decodes the next record of the stream into rec, reusing
// rec.Values (its length is set to the event's number of fields), and
// returns io.EOF after the last one. A loop calling it with the same rec
// allocates nothing per record but, now and then, a 32 KiB chunk that
// string and byte-sequence values are carved from: those values are never
// overwritten, so keeping one (or the whole Values slice of a record,
// copied) is safe, though a kept string keeps its chunk in memory. On
// error rec's contents are unspecified.
func (r *Reader) NextInto(rec *Record) error {
	for {
		done, err := r.step(rec)
		if err != nil || !done {
			return err
		}
	}
}

// NextPacket decodes the rest of the current packet, or the whole next
// packet if none is being read, and returns it. It returns io.EOF at the
// end of the stream. In Salvage mode a damaged packet is not returned: its
// records are lost with the rest of the damage.
func (r *Reader) NextPacket() (Packet, error) {
	for {
		done, err := r.step(nil)
		if err != nil {
			return Packet{}, err
		}
		if done {
			return r.pkt, nil
		}
	}
}

// Packet returns the packet of the last record [Reader.Next] or
// [Reader.NextInto] returned, or the last packet [Reader.NextPacket]
// returned; false before any. Discarded is its increase of
// events_discarded; Records counts its records decoded so far, all of them
// once Next has returned io.EOF after its last one (the final counts of
// every packet are [Reader.Totals]' and NextPacket's).
func (r *Reader) Packet() (Packet, bool) { return r.pkt, r.havePkt }

// Totals returns the Reader's running counts.
func (r *Reader) Totals() Totals { return r.totals }

// step decodes one item: a record into rec (done = false; skipped when rec
// is nil), or the end of the current packet (done = true, the packet in
// r.pkt). In Salvage mode it skips damage and tries again.
func (r *Reader) step(rec *Record) (done bool, err error) {
	for {
		if r.err != nil {
			return false, r.err
		}
		done, err = r.step1(rec)
		if err == nil || errors.Is(err, io.EOF) {
			return done, err
		}
		if r.mode != Salvage {
			r.err = err
			return false, err
		}
		var de *DecodeError // declared here: errors.As moves it to the heap
		if !errors.As(err, &de) {
			r.err = err // not damage: the file cannot be read
			return false, err
		}
		if err := r.resync(de); err != nil {
			r.err = err
		}
	}
}

func (r *Reader) step1(rec *Record) (done bool, err error) {
	if !r.open {
		if err := r.openPacket(); err != nil {
			return false, err
		}
	}
	if r.cur == len(r.buf) {
		if r.cut {
			return false, r.cutErr
		}
		r.open = false
		r.ord.ts = r.pkt.TimestampEnd
		r.good = r.ord
		r.havePkt = true
		r.totals.Packets++
		r.totals.Discarded += r.pkt.Discarded
		if r.padErr != nil {
			r.addSkip(Skip{File: r.name, Offset: r.size, Err: r.padErr})
			r.padErr = nil
		}
		return true, nil
	}
	if err := r.record(rec); err != nil {
		if r.cut && (errors.Is(err, ErrTruncated) || errors.Is(err, ErrNoNUL)) {
			return false, r.cutErr // the record runs past the end of the file
		}
		return false, err
	}
	return false, nil
}

func (r *Reader) fail(off int64, sentinel error, format string, args ...any) error {
	return decodeErr(r.name, off, sentinel, format, args...)
}

// openPacket reads and checks the header of the packet at r.next and loads
// its content.
func (r *Reader) openPacket() error {
	off := r.next
	if off >= r.size {
		return io.EOF
	}
	if r.mode == Tail && r.size-off < PacketHeaderSize {
		return io.EOF // the header is being written
	}
	info, whole, err := r.checkHeader(off)
	switch {
	case err != nil:
		return err
	case !whole && r.mode == Tail:
		return io.EOF // the packet is being written
	case !whole && r.mode == Strict:
		return r.fail(off+OffPacketSize, ErrTruncated, "packet_size %d bytes but only %d bytes left in the file", info.PacketBytes(), r.size-off)
	}
	if r.mode == Salvage {
		if whole, err = r.plausible(off, &info); err != nil {
			return err
		}
	}
	n := int(info.ContentBytes())
	r.cut = !whole && int64(n) > r.size-off
	if r.cut { // Salvage: decode the records the file holds
		r.cutErr = r.fail(off+OffPacketSize, ErrTruncated, "packet_size %d bytes but only %d bytes left in the file", info.PacketBytes(), r.size-off)
		n = int(r.size - off)
	} else if !whole {
		// Salvage: the content is whole, only padding is missing. Once
		// every record is decoded, say so, skipping nothing.
		r.padErr = r.fail(off+OffPacketSize, ErrTruncated,
			"packet_size %d bytes but only %d bytes left in the file (its records are all there)", info.PacketBytes(), r.size-off)
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if err := r.readAt(r.buf, off); err != nil {
		return err
	}
	// r.ord.disc is 0 before the first packet: Discarded is then the whole
	// cumulative count.
	r.pkt = Packet{PacketInfo: info, File: r.name, Offset: off, Discarded: info.EventsDiscarded - r.ord.disc}
	r.ord = order{started: true, seq: info.SeqNum, disc: info.EventsDiscarded, ts: info.TimestampBegin}
	r.open = true
	r.cur = min(PacketHeaderSize, n) // an empty packet ends with its context
	r.next = off + int64(info.PacketBytes())
	return nil
}

// checkHeader reads the packet header at off and checks it on its own
// ([ParsePacketHeader]), against the trace (UUID, stream id) and against
// r.ord (counters and timestamps going forward). whole reports whether
// the file holds the whole packet; that is not checked.
func (r *Reader) checkHeader(off int64) (info PacketInfo, whole bool, err error) {
	if r.size-off < PacketHeaderSize {
		return info, false, r.fail(off, ErrTruncated, "%d bytes left at end of file, a packet header needs %d", r.size-off, PacketHeaderSize)
	}
	if err := r.readAt(r.hdr[:], off); err != nil {
		return info, false, err
	}
	info, err = ParsePacketHeader(r.hdr[:])
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return info, false, &DecodeError{File: r.name, Offset: off + de.Offset, Err: de.Err}
		}
		return info, false, err
	}
	switch {
	case info.UUID != r.t.Info.UUID:
		return info, false, r.fail(off+OffUUID, ErrUUIDMismatch, "packet UUID %s, trace UUID %s", FormatUUID(info.UUID), FormatUUID(r.t.Info.UUID))
	case info.StreamID != StreamID:
		return info, false, r.fail(off+OffStreamID, ErrUnknownStream, "stream_id %d, the metadata declares only %d", info.StreamID, StreamID)
	case info.TimestampEnd < info.TimestampBegin:
		return info, false, r.fail(off+OffTimestampEnd, ErrTimestampOrder, "timestamp_end %d before timestamp_begin %d", info.TimestampEnd, info.TimestampBegin)
	case r.ord.started && info.TimestampBegin < r.ord.ts:
		return info, false, r.fail(off+OffTimestampBegin, ErrTimestampOrder, "timestamp_begin %d before the previous packet's end %d", info.TimestampBegin, r.ord.ts)
	case r.ord.started && info.SeqNum <= r.ord.seq:
		return info, false, r.fail(off+OffPacketSeqNum, ErrPacketOrder, "packet_seq_num %d after %d, want it increasing", info.SeqNum, r.ord.seq)
	case r.ord.started && info.EventsDiscarded < r.ord.disc:
		return info, false, r.fail(off+OffEventsDiscarded, ErrPacketOrder, "events_discarded %d below the previous packet's %d", info.EventsDiscarded, r.ord.disc)
	}
	return info, info.PacketBytes() <= uint64(r.size-off), nil
}

// readAt fills b from offset off of the stream. A short read (the file
// shrank under us) is ErrTruncated, never io.EOF, which means a clean end.
func (r *Reader) readAt(b []byte, off int64) error {
	n, err := r.src.ReadAt(b, off)
	switch {
	case n == len(b):
		return nil
	case errors.Is(err, io.EOF) || err == nil:
		return r.fail(off+int64(n), ErrTruncated, "file ends %d bytes into a %d-byte read", n, len(b))
	}
	return fmt.Errorf("read %s at offset %d: %w", r.name, off, err)
}

// record decodes the record at r.cur, which is before the content end,
// into rec (checking it only when rec is nil).
func (r *Reader) record(rec *Record) error {
	b, base := r.buf, r.pkt.Offset
	start := AlignUp(r.cur, RecordAlign)
	switch {
	case start >= len(b):
		// Padding after the last record: content_size must be its exact end.
		return r.fail(base+int64(r.cur), ErrTruncated, "content_size leaves %d bytes of padding after the last record, want none", len(b)-r.cur)
	case start+HeaderSize > len(b):
		return r.fail(base+int64(start), ErrTruncated, "record header cut by content_size (%d of %d bytes)", len(b)-start, HeaderSize)
	}
	ts := binary.LittleEndian.Uint64(b[start+OffTimestamp:])
	id := binary.LittleEndian.Uint32(b[start+OffID:])
	e, ok := r.t.byID[id]
	switch {
	case !ok:
		return r.fail(base+int64(start+OffID), ErrUnknownEvent, "event id %d is not declared in the metadata", id)
	case ts < r.ord.ts:
		return r.fail(base+int64(start), ErrTimestampOrder, "record timestamp %d before %d", ts, r.ord.ts)
	case ts > r.pkt.TimestampEnd:
		return r.fail(base+int64(start), ErrTimestampOrder, "record timestamp %d after its packet's timestamp_end %d", ts, r.pkt.TimestampEnd)
	}
	var vals []Value
	if rec != nil {
		vals = rec.Values[:0]
		if cap(vals) < len(e.Fields) {
			vals = make([]Value, len(e.Fields))
		}
		vals = vals[:len(e.Fields)]
	}
	off := start + e.payloadOffset()
	for i, f := range e.Fields {
		fieldOff := off
		var need int
		switch f.Type {
		case U8, S8, String:
			need = 1
		case U16, S16:
			off, need = AlignUp(off, 2), 2
		case U32, S32, Bytes:
			off, need = AlignUp(off, 4), 4
		case U64, S64:
			off, need = AlignUp(off, 8), 8
		}
		if off+need > len(b) {
			return r.fail(base+int64(fieldOff), ErrTruncated, "event %s field %s runs past content_size", e.Name, f.Name)
		}
		var v Value
		switch f.Type {
		case U8:
			v.U = uint64(b[off])
		case S8:
			v.U = uint64(int64(int8(b[off])))
		case U16:
			v.U = uint64(binary.LittleEndian.Uint16(b[off:]))
		case S16:
			v.U = uint64(int64(int16(binary.LittleEndian.Uint16(b[off:]))))
		case U32:
			v.U = uint64(binary.LittleEndian.Uint32(b[off:]))
		case S32:
			v.U = uint64(int64(int32(binary.LittleEndian.Uint32(b[off:]))))
		case U64, S64:
			v.U = binary.LittleEndian.Uint64(b[off:])
		case String:
			n := bytes.IndexByte(b[off:], 0)
			if n < 0 {
				return r.fail(base+int64(off), ErrNoNUL, "event %s field %s: no NUL before content_size", e.Name, f.Name)
			}
			if rec != nil {
				v.S = r.keepString(b[off : off+n])
			}
			need = n + 1
		case Bytes:
			n := binary.LittleEndian.Uint32(b[off:])
			if uint64(n) > uint64(len(b)-off-4) {
				return r.fail(base+int64(off), ErrTruncated, "event %s field %s: %d bytes run past content_size", e.Name, f.Name, n)
			}
			if rec != nil {
				v.B = r.keep(b[off+4 : off+4+int(n)])
			}
			need = 4 + int(n)
		}
		if rec != nil {
			vals[i] = v
		}
		off += need
	}
	r.cur = off
	r.ord.ts = ts
	r.recTS = ts
	r.pkt.Records++
	r.havePkt = true
	r.totals.Records++
	if rec != nil {
		*rec = Record{
			File:      r.name,
			Offset:    base + int64(start),
			Size:      off - start,
			PacketSeq: r.pkt.SeqNum,
			Timestamp: ts,
			CPU:       r.pkt.CPU,
			Event:     e,
			Values:    vals,
		}
	}
	return nil
}
