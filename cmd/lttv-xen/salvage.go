package main

import (
	"fmt"
	"io"

	"github.com/lttng-xen/lttng-xen/record"
)

// sums adds up what the Readers of a trace's streams decoded and, with
// --salvage, skipped.
type sums struct {
	record.Totals
	skips   []record.Skip
	streams []record.StreamTotals // each stream's figures, in [record.Trace.Streams] order
}

// addMerger adds the counts and skips of every stream of m, which has read
// its streams.
func (s *sums) addMerger(m *record.Merger) {
	for _, st := range m.Streams() {
		s.addStream(st)
	}
}

// add adds the counts and skips of r, which has read its stream.
func (s *sums) add(r *record.Reader) {
	st := record.StreamTotals{File: r.Name(), Totals: r.Totals(), Skips: r.Skips()}
	st.CPU, st.HasCPU = record.StreamCPU(st.File)
	s.addStream(st)
}

func (s *sums) addStream(st record.StreamTotals) {
	t := st.Totals
	s.Packets += t.Packets
	s.Records += t.Records
	s.Discarded += t.Discarded
	s.SkippedBytes += t.SkippedBytes
	s.SkippedPackets += t.SkippedPackets
	s.skips = append(s.skips, st.Skips...)
	s.streams = append(s.streams, st)
}

// damaged reports whether any region was skipped (or found cut short
// after its last record: a skip of 0 bytes).
func (s *sums) damaged() bool { return len(s.skips) > 0 }

// skipText describes one skipped region: the damage as every decoding
// error reads ("FILE: offset N: what was expected"), then what was
// skipped because of it.
func skipText(s record.Skip) string {
	if s.Size == 0 {
		return fmt.Sprintf("%v; nothing skipped", s.Err)
	}
	return fmt.Sprintf("%v; skipped %d bytes at offsets %d-%d (%s)", s.Err, s.Size, s.Offset, s.Offset+s.Size-1, plural(s.Packets, "packet"))
}

// plural returns "1 packet", "2 packets", "no packet".
func plural(n uint64, what string) string {
	switch n {
	case 0:
		return "no " + what
	case 1:
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// warnSalvage prints, for dump and stats --salvage, one line per skipped
// region and a summary on w (stderr), and returns the error that makes the
// run fail: nothing was recovered from a damaged trace. A trace without
// damage prints nothing.
func warnSalvage(w io.Writer, dir string, s *sums) error {
	if !s.damaged() {
		return nil
	}
	for _, sk := range s.skips {
		fmt.Fprintf(w, "%s: salvage: %s\n", name, skipText(sk))
	}
	if s.Records == 0 {
		return fmt.Errorf("%s: nothing recovered: %s skipped in %s", dir, plural(uint64(s.SkippedBytes), "byte"), plural(uint64(len(s.skips)), "damaged region"))
	}
	_, err := fmt.Fprintf(w, "%s: salvage: %s: recovered %s in %s; skipped %s (%s) in %s\n", name, dir,
		plural(s.Records, "event"), plural(s.Packets, "whole packet"),
		plural(uint64(s.SkippedBytes), "byte"), plural(s.SkippedPackets, "packet"), plural(uint64(len(s.skips)), "damaged region"))
	return err
}
