package record

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MaxMetadataSize bounds the metadata file [OpenTrace] reads.
const MaxMetadataSize = 64 << 20

// Trace is a trace directory opened for reading: its metadata, parsed, and
// the list of its stream files. The event types come from the metadata on
// disk, so types registered at run time decode like built-in ones.
//
// A Trace is immutable after [OpenTrace] or [NewTrace]; any number of
// goroutines may read it and create [Reader]s from it. A Reader belongs to
// one goroutine.
type Trace struct {
	Dir     string    // trace directory ("" for NewTrace)
	Info    TraceInfo // from the metadata
	Events  []*Event  // from the metadata, by id
	Streams []string  // stream files (channelN_M), in name order (numeric)

	byID map[uint32]*Event
}

// OpenTrace reads dir/metadata and lists the stream files dir/channelN_M
// (N, M decimal). It does not read the streams: [Trace.Records],
// [Trace.Packets] and [Trace.OpenStream] do. Errors are [*DecodeError] values
// (metadata problems wrap [ErrBadMetadata]) or the file system's error
// wrapped with what was being done.
func OpenTrace(dir string) (*Trace, error) {
	name := filepath.Join(dir, "metadata")
	text, err := readMetadata(name)
	if err != nil {
		return nil, err
	}
	t, err := NewTrace(text)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			de.File = name
		}
		return nil, err
	}
	t.Dir = dir
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list trace directory: %w", err)
	}
	type stream struct {
		path string
		n, m uint64
	}
	var streams []stream
	for _, e := range ents {
		n, m, ok := streamFileName(e.Name())
		if ok && e.Type().IsRegular() {
			streams = append(streams, stream{filepath.Join(dir, e.Name()), n, m})
		}
	}
	slices.SortFunc(streams, func(a, b stream) int {
		return cmp.Or(cmp.Compare(a.n, b.n), cmp.Compare(a.m, b.m))
	})
	for _, s := range streams {
		t.Streams = append(t.Streams, s.path)
	}
	return t, nil
}

func readMetadata(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open metadata: %w", err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, MaxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	if len(text) > MaxMetadataSize {
		return nil, decodeErr(name, MaxMetadataSize, ErrBadMetadata, "metadata larger than %d bytes", MaxMetadataSize)
	}
	return text, nil
}

// streamFileName parses "channelN_M".
func streamFileName(s string) (n, m uint64, ok bool) {
	rest, ok := strings.CutPrefix(s, "channel")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, "_")
	if !ok || a == "" || b == "" || strings.Trim(a, "0123456789") != "" || strings.Trim(b, "0123456789") != "" {
		return 0, 0, false
	}
	n, err1 := strconv.ParseUint(a, 10, 64)
	m, err2 := strconv.ParseUint(b, 10, 64)
	return n, m, err1 == nil && err2 == nil
}

// NewTrace returns a Trace described by metadata text, with no directory
// and no stream files: use [Trace.NewReader] to decode streams held
// elsewhere (a buffer, a socket's bytes).
func NewTrace(metadata []byte) (*Trace, error) {
	info, events, err := ParseMetadata(metadata)
	if err != nil {
		return nil, err
	}
	t := &Trace{Info: info, Events: events, byID: make(map[uint32]*Event, len(events))}
	for _, e := range events {
		t.byID[e.ID] = e
	}
	return t, nil
}

// Event returns the event type with the given id.
func (t *Trace) Event(id uint32) (*Event, bool) {
	e, ok := t.byID[id]
	return e, ok
}

// Record is one decoded event record.
type Record struct {
	File      string // stream file
	Offset    int64  // file offset of the record's first byte
	Size      int    // record length in bytes (from Offset, no padding)
	PacketSeq uint64 // packet_seq_num of the packet holding it
	Timestamp uint64 // clock cycles (ns for the default clock)
	CPU       uint32 // cpu_id
	Event     *Event // the event type, as the metadata declares it
	Values    []Value
}

// ID returns the record's event id.
func (r Record) ID() uint32 { return r.Event.ID }

// Name returns the record's event name.
func (r Record) Name() string { return r.Event.Name }

// Value returns the value of the field called name.
func (r Record) Value(name string) (Value, bool) {
	if i := r.Event.FieldIndex(name); i >= 0 {
		return r.Values[i], true
	}
	return Value{}, false
}

// String formats the record as "[ts] name: { cpu_id = C }, { f = v, … }",
// like babeltrace2's text output with raw timestamps.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s: { cpu_id = %d }, {", r.Timestamp, r.Event.Name, r.CPU)
	for i, f := range r.Event.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s = %s", f.Name, r.Values[i].Format(f.Type))
	}
	b.WriteString(" }")
	return b.String()
}

// Packet is one decoded packet.
type Packet struct {
	PacketInfo
	File    string // stream file
	Offset  int64  // file offset of the packet's first byte
	Records int    // records in the packet
	// Discarded is the number of records lost just before this packet:
	// its EventsDiscarded minus the previous packet's (the whole
	// EventsDiscarded for a stream's first packet).
	Discarded uint64
}

// Records returns an iterator over every record of every stream file, one
// file after another, each in stream order. It stops after yielding the
// first error (a [*DecodeError], or the file system's error).
func (t *Trace) Records() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		eachStream(t, yield, func(r *Reader) (Record, error) { return r.Next() })
	}
}

// Packets returns an iterator over every packet of every stream file, in
// order, each yielded once all its records have been decoded and checked.
// It stops after yielding the first error.
func (t *Trace) Packets() iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		eachStream(t, yield, func(r *Reader) (Packet, error) { return r.NextPacket() })
	}
}

// eachStream yields next(r) for a Reader r over each stream file in turn,
// until io.EOF, an error (yielded) or yield returning false.
func eachStream[T any](t *Trace, yield func(T, error) bool, next func(*Reader) (T, error)) {
	var zero T
	for _, name := range t.Streams {
		r, err := t.OpenStream(name)
		if err != nil {
			yield(zero, err)
			return
		}
		for {
			v, err := next(r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				yield(zero, err)
				r.Close()
				return
			}
			if !yield(v, nil) {
				r.Close()
				return
			}
		}
		r.Close()
	}
}

// OpenStream opens a stream file for reading with a [Reader]. The caller
// must Close the Reader.
func (t *Trace) OpenStream(name string) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat stream: %w", err)
	}
	r := t.NewReader(name, f, st.Size())
	r.closer = f
	return r, nil
}

// NewReader returns a Reader decoding the size bytes of src as a stream of
// this trace; name is the File of its errors and records.
func (t *Trace) NewReader(name string, src io.ReaderAt, size int64) *Reader {
	return &Reader{t: t, name: name, src: src, size: size}
}

// Reader decodes one stream: its packets, and the records in them, checking
// everything docs/ARCHITECTURE.md promises (see the sentinels in errors.go).
// A Reader is not safe for concurrent use. After an error every later call
// returns the same error.
type Reader struct {
	t      *Trace
	name   string
	src    io.ReaderAt
	size   int64
	closer io.Closer

	next int64  // file offset of the next packet
	buf  []byte // current packet's content (header included)
	cur  int    // offset in buf of the next record
	open bool   // a packet is being read
	pkt  Packet // current packet

	started  bool   // a packet has been read
	prevSeq  uint64 // previous packet's seq
	prevDisc uint64 // previous packet's events_discarded
	lastTS   uint64 // latest timestamp seen (record or packet bound)
	err      error
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
// or io.EOF after the last one.
func (r *Reader) Next() (Record, error) {
	for {
		rec, done, err := r.step()
		if err != nil || !done {
			return rec, err
		}
	}
}

// NextPacket decodes the rest of the current packet, or the whole next
// packet if none is being read, and returns it. It returns io.EOF at the
// end of the stream.
func (r *Reader) NextPacket() (Packet, error) {
	for {
		_, done, err := r.step()
		if err != nil {
			return Packet{}, err
		}
		if done {
			return r.pkt, nil
		}
	}
}

// step decodes one item: a record (done = false) or the end of the current
// packet (done = true, the packet in r.pkt).
func (r *Reader) step() (rec Record, done bool, err error) {
	if r.err != nil {
		return Record{}, false, r.err
	}
	defer func() {
		if err != nil {
			r.err = err
		}
	}()
	if !r.open {
		if err := r.openPacket(); err != nil {
			return Record{}, false, err
		}
	}
	if r.cur == len(r.buf) {
		r.open = false
		r.lastTS = r.pkt.TimestampEnd
		return Record{}, true, nil
	}
	rec, err = r.record()
	return rec, false, err
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
	var hdr [PacketHeaderSize]byte
	if r.size-off < PacketHeaderSize {
		return r.fail(off, ErrTruncated, "%d bytes left at end of file, a packet header needs %d", r.size-off, PacketHeaderSize)
	}
	if err := r.readAt(hdr[:], off); err != nil {
		return err
	}
	info, err := ParsePacketHeader(hdr[:])
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return &DecodeError{File: r.name, Offset: off + de.Offset, Err: de.Err}
		}
		return err
	}
	switch {
	case info.UUID != r.t.Info.UUID:
		return r.fail(off+OffUUID, ErrUUIDMismatch, "packet UUID %s, trace UUID %s", FormatUUID(info.UUID), FormatUUID(r.t.Info.UUID))
	case info.StreamID != StreamID:
		return r.fail(off+OffStreamID, ErrUnknownStream, "stream_id %d, the metadata declares only %d", info.StreamID, StreamID)
	case info.PacketBytes() > uint64(r.size-off):
		return r.fail(off+OffPacketSize, ErrTruncated, "packet_size %d bytes but only %d bytes left in the file", info.PacketBytes(), r.size-off)
	case info.TimestampEnd < info.TimestampBegin:
		return r.fail(off+OffTimestampEnd, ErrTimestampOrder, "timestamp_end %d before timestamp_begin %d", info.TimestampEnd, info.TimestampBegin)
	case r.started && info.TimestampBegin < r.lastTS:
		return r.fail(off+OffTimestampBegin, ErrTimestampOrder, "timestamp_begin %d before the previous packet's end %d", info.TimestampBegin, r.lastTS)
	case r.started && info.SeqNum <= r.prevSeq:
		return r.fail(off+OffPacketSeqNum, ErrPacketOrder, "packet_seq_num %d after %d", info.SeqNum, r.prevSeq)
	case r.started && info.EventsDiscarded < r.prevDisc:
		return r.fail(off+OffEventsDiscarded, ErrPacketOrder, "events_discarded %d below the previous packet's %d", info.EventsDiscarded, r.prevDisc)
	}
	n := int(info.ContentBytes())
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if err := r.readAt(r.buf, off); err != nil {
		return err
	}
	r.pkt = Packet{PacketInfo: info, File: r.name, Offset: off, Discarded: info.EventsDiscarded - r.prevDisc}
	r.started, r.open = true, true
	r.prevSeq, r.prevDisc = info.SeqNum, info.EventsDiscarded
	r.lastTS = info.TimestampBegin
	r.cur = PacketHeaderSize
	r.next = off + int64(info.PacketBytes())
	return nil
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

// record decodes the record at r.cur, which is before the content end.
func (r *Reader) record() (Record, error) {
	b, base := r.buf, r.pkt.Offset
	start := AlignUp(r.cur, RecordAlign)
	switch {
	case start >= len(b):
		// Padding after the last record: content_size must be its exact end.
		return Record{}, r.fail(base+int64(r.cur), ErrTruncated, "content_size leaves %d bytes of padding after the last record", len(b)-r.cur)
	case start+HeaderSize > len(b):
		return Record{}, r.fail(base+int64(start), ErrTruncated, "record header cut by content_size (%d of %d bytes)", len(b)-start, HeaderSize)
	}
	ts := binary.LittleEndian.Uint64(b[start+OffTimestamp:])
	id := binary.LittleEndian.Uint32(b[start+OffID:])
	cpu := binary.LittleEndian.Uint32(b[start+OffCPU:])
	e, ok := r.t.byID[id]
	if !ok {
		return Record{}, r.fail(base+int64(start+OffID), ErrUnknownEvent, "event id %d", id)
	}
	switch {
	case ts < r.lastTS:
		return Record{}, r.fail(base+int64(start), ErrTimestampOrder, "record timestamp %d before %d", ts, r.lastTS)
	case ts > r.pkt.TimestampEnd:
		return Record{}, r.fail(base+int64(start), ErrTimestampOrder, "record timestamp %d after its packet's timestamp_end %d", ts, r.pkt.TimestampEnd)
	}
	vals := make([]Value, len(e.Fields))
	off := start + HeaderSize
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
			return Record{}, r.fail(base+int64(fieldOff), ErrTruncated, "event %s field %s runs past content_size", e.Name, f.Name)
		}
		v := &vals[i]
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
				return Record{}, r.fail(base+int64(off), ErrNoNUL, "event %s field %s", e.Name, f.Name)
			}
			v.S = string(b[off : off+n])
			need = n + 1
		case Bytes:
			n := binary.LittleEndian.Uint32(b[off:])
			if uint64(n) > uint64(len(b)-off-4) {
				return Record{}, r.fail(base+int64(off), ErrTruncated, "event %s field %s: %d bytes run past content_size", e.Name, f.Name, n)
			}
			v.B = append([]byte(nil), b[off+4:off+4+int(n)]...)
			need = 4 + int(n)
		}
		off += need
	}
	r.cur = off
	r.lastTS = ts
	r.pkt.Records++
	return Record{
		File:      r.name,
		Offset:    base + int64(start),
		Size:      off - start,
		PacketSeq: r.pkt.SeqNum,
		Timestamp: ts,
		CPU:       cpu,
		Event:     e,
		Values:    vals,
	}, nil
}
