package record

import (
	"cmp"
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
	if t.Streams, err = ListStreams(dir); err != nil {
		return nil, err
	}
	return t, nil
}

// ListStreams returns the stream files of the trace directory dir: its
// regular files called channelN_M (N, M decimal), in numeric order of N
// then M.
func ListStreams(dir string) ([]string, error) {
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
	paths := make([]string, 0, len(streams))
	for _, s := range streams {
		paths = append(paths, s.path)
	}
	return paths, nil
}

// IsStreamFile reports whether name (a base name) is that of a stream
// file: channelN_M, N and M decimal.
func IsStreamFile(name string) bool {
	_, _, ok := streamFileName(name)
	return ok
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
	CPU       uint32 // cpu_id of its packet: the pCPU whose stream holds it
	Event     *Event // the event type, as the metadata declares it
	// Values are the fields' values, in declaration order. Their strings
	// and byte slices are never written to by the decoder once returned
	// (see [Reader.NextInto]).
	Values []Value
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
	Records int    // records in the packet (so far, while it is being read)
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

// OpenStream opens a stream file for reading with a [Reader], in [Strict]
// mode, up to the file's size when opened. The caller must Close the
// Reader.
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
// this trace, in [Strict] mode; name is the File of its errors and
// records.
func (t *Trace) NewReader(name string, src io.ReaderAt, size int64) *Reader {
	return &Reader{t: t, name: name, src: src, size: size}
}
