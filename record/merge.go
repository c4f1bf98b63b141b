package record

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
)

// Merger reads every stream of a trace (one per pCPU: channel0_<cpu>) and
// returns their records as one sequence in timestamp order: a heap over
// the next record of each stream's [Reader]. Records with equal timestamps
// come in stream order (the order the streams were added: [Trace.Streams]'
// numeric order for [Trace.OpenMerger]), then in file order within a
// stream. Each Reader checks its own stream as it always does (timestamps
// never decrease within a stream, packet counters go forward); across
// streams only the merge order is imposed.
//
// The Readers' mode is the Merger's: in [Strict] mode the first damage in
// any stream ends the merge (once the records of every stream up to the
// damaged stream's last good record have been returned); in [Salvage] mode each
// stream skips its own damage; in [Tail] mode a stream with no whole packet
// left is set aside until the Merger has returned io.EOF, and tried again
// on the next call, after the caller has grown it ([Reader.Grow]): records
// are then merged in order among the packets the files held at each look,
// not across looks (a quiet pCPU's late packet is not waited for).
//
// A Merger is not safe for concurrent use.
type Merger struct {
	mode    Mode
	streams []*mergeStream
	heap    []int // indices into streams of the streams with a pending record, a min-heap
	need    []int // streams whose pending record must be decoded before the next pop
	idle    []int // Tail mode: streams at io.EOF, tried again after the Merger returns io.EOF
	atEOF   bool  // the last call returned io.EOF
	err     error // sticky: the first error a stream returned
	losses  []Loss
}

// Loss is a gap in one stream: records its writer discarded (the buffer
// was full) between two packets, as the later packet's events_discarded
// says.
type Loss struct {
	File   string
	CPU    uint32 // the stream's pCPU, as in [StreamTotals]
	HasCPU bool
	// After and Before bound the gap: the timestamp_end of the packet
	// before it (0 for a stream's first packet) and the timestamp_begin
	// of the packet after it, in cycles of the trace clock.
	After, Before uint64
	Count         uint64 // records lost
}

// mergeStream is one stream of a Merger.
type mergeStream struct {
	r     *Reader
	cpu   uint32
	hasID bool
	rec   Record // its next record, when in the heap
	own   bool   // the Merger opened r and closes it
	// pktOff is the offset of the packet of its last record (-1 before
	// any); pktEnd that packet's timestamp_end.
	pktOff int64
	pktEnd uint64
}

// StreamTotals are the figures of one stream of a [Merger].
type StreamTotals struct {
	File string // the stream file
	// CPU is the pCPU the stream's file name gives (channelN_<cpu>);
	// HasCPU is false if the name has no such number.
	CPU    uint32
	HasCPU bool
	Totals        // the stream's Reader's counts
	Skips  []Skip // Salvage mode: what its Reader skipped
}

// OpenMerger opens every stream file of t ([Trace.Streams]) in mode and
// returns a Merger over them; [Merger.Close] closes them.
func (t *Trace) OpenMerger(mode Mode) (_ *Merger, err error) {
	m := NewMerger(mode)
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	for _, name := range t.Streams {
		r, err := t.OpenStream(name)
		if err != nil {
			return nil, err
		}
		m.add(r, true)
	}
	return m, nil
}

// NewMerger returns a Merger with no stream; add them with [Merger.Add].
func NewMerger(mode Mode) *Merger { return &Merger{mode: mode} }

// Add adds a stream to merge. Its Reader is set to the Merger's mode; the
// caller keeps it (to [Reader.Grow] it, or [Reader.SetTrace]) and closes
// it. A stream may be added at any time: its records join the merge from
// the next call on.
func (m *Merger) Add(r *Reader) { m.add(r, false) }

func (m *Merger) add(r *Reader, own bool) {
	r.SetMode(m.mode)
	s := &mergeStream{r: r, own: own, pktOff: -1}
	s.cpu, s.hasID = StreamCPU(r.name)
	m.streams = append(m.streams, s)
	m.need = append(m.need, len(m.streams)-1)
}

// StreamCPU returns the pCPU a stream file name gives: M in channelN_M
// (the directory part of name is ignored).
func StreamCPU(name string) (uint32, bool) {
	_, m, ok := streamFileName(filepath.Base(name))
	if !ok || m > 1<<32-1 {
		return 0, false
	}
	return uint32(m), true
}

// Next returns the next record in timestamp order, or io.EOF after the
// last one. The record is the caller's.
func (m *Merger) Next() (Record, error) {
	var rec Record
	if err := m.NextInto(&rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// NextInto decodes the next record in timestamp order into rec, or
// returns io.EOF after the last one (in Tail mode: the last one the
// streams hold for now). As with [Reader.NextInto], rec.Values is reused
// (it is handed to a stream for its next record) and strings and byte
// values are never overwritten. An error (a [*DecodeError] naming the
// stream file, or a read failure) is returned again by every later call.
func (m *Merger) NextInto(rec *Record) error {
	if m.err != nil {
		return m.err
	}
	if m.atEOF && len(m.idle) > 0 {
		m.need = append(m.need, m.idle...)
		m.idle = m.idle[:0]
	}
	m.atEOF = false
	for len(m.need) > 0 {
		i := m.need[len(m.need)-1]
		m.need = m.need[:len(m.need)-1]
		s := m.streams[i]
		err := s.r.NextInto(&s.rec)
		switch {
		case err == nil:
			m.notePacket(s)
			m.push(i)
		case errors.Is(err, io.EOF):
			if m.mode == Tail { // else the stream is done
				m.idle = append(m.idle, i)
			}
		default:
			m.err = err
			return err
		}
	}
	if len(m.heap) == 0 {
		m.atEOF = true
		return io.EOF
	}
	i := m.pop()
	s := m.streams[i]
	*rec, s.rec = s.rec, *rec
	m.need = append(m.need, i)
	return nil
}

// notePacket notes a loss when s's last record opened a packet whose
// events_discarded went up.
func (m *Merger) notePacket(s *mergeStream) {
	p, _ := s.r.Packet()
	if p.Offset == s.pktOff {
		return
	}
	if p.Discarded > 0 {
		m.losses = append(m.losses, Loss{File: s.r.name, CPU: s.cpu, HasCPU: s.hasID, After: s.pktEnd, Before: p.TimestampBegin, Count: p.Discarded})
	}
	s.pktOff, s.pktEnd = p.Offset, p.TimestampEnd
}

// Losses returns the gaps where records were discarded, in the order the
// Merger found them: each is found when the first record after it is
// decoded, which is before that record is returned. A gap followed by no
// record (a stream ending in a packet without any) is not seen.
func (m *Merger) Losses() []Loss { return slices.Clone(m.losses) }

// less orders streams by their pending record: timestamp, then stream.
func (m *Merger) less(a, b int) bool {
	ta, tb := m.streams[a].rec.Timestamp, m.streams[b].rec.Timestamp
	return ta < tb || ta == tb && a < b
}

func (m *Merger) push(i int) {
	h := append(m.heap, i)
	for j := len(h) - 1; j > 0; {
		p := (j - 1) / 2
		if !m.less(h[j], h[p]) {
			break
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
	m.heap = h
}

func (m *Merger) pop() int {
	h := m.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for j := 0; ; {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && m.less(h[c+1], h[c]) {
			c++
		}
		if !m.less(h[c], h[j]) {
			break
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
	m.heap = h
	return top
}

// Streams returns the figures of each stream, in the order they were
// added. A stream's Totals count the record it has decoded ahead for the
// merge, so once [Merger.NextInto] has returned io.EOF (outside Tail mode)
// they are the stream's whole counts.
func (m *Merger) Streams() []StreamTotals {
	out := make([]StreamTotals, len(m.streams))
	for i, s := range m.streams {
		out[i] = StreamTotals{File: s.r.name, CPU: s.cpu, HasCPU: s.hasID, Totals: s.r.Totals(), Skips: s.r.Skips()}
	}
	return out
}

// Totals returns the sum of every stream's [Reader.Totals].
func (m *Merger) Totals() Totals {
	var t Totals
	for _, s := range m.streams {
		st := s.r.Totals()
		t.Packets += st.Packets
		t.Records += st.Records
		t.Discarded += st.Discarded
		t.SkippedBytes += st.SkippedBytes
		t.SkippedPackets += st.SkippedPackets
	}
	return t
}

// Skips returns what every stream skipped (Salvage mode), stream after
// stream, each in file order.
func (m *Merger) Skips() []Skip {
	var out []Skip
	for _, s := range m.streams {
		out = append(out, s.r.skips...)
	}
	return out
}

// Close closes the streams the Merger opened ([Trace.OpenMerger]); those
// given to [Merger.Add] are the caller's. It is idempotent.
func (m *Merger) Close() error {
	var errs []error
	for _, s := range m.streams {
		if s.own {
			errs = append(errs, s.r.Close())
		}
	}
	return errors.Join(errs...)
}
