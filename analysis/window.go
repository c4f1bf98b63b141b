package analysis

import "math"

// Window is the part of a trace to analyse: from Begin to End after the
// trace's first event (End = 0: to the end of the trace). Records outside
// it are replayed for their state only (what runs where when the window
// opens); intervals are clipped to it.
type Window struct {
	Begin, End uint64 // ns after the first event; End 0: no end
}

// span is a Window resolved against the first event: [begin, end) in ns
// of the trace clock.
type span struct{ begin, end uint64 }

func (w Window) resolve(first uint64) span {
	s := span{begin: first + w.Begin, end: math.MaxUint64}
	if w.End > 0 {
		s.end = first + w.End
	}
	return s
}

// contains reports whether t is in the span.
func (s span) contains(t uint64) bool { return t >= s.begin && t < s.end }

// clip returns [b, e) cut to the span, and whether anything is left.
func (s span) clip(b, e uint64) (uint64, uint64, bool) {
	b, e = max(b, s.begin), min(e, s.end)
	return b, e, e > b
}
