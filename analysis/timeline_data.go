package analysis

import (
	"cmp"
	"slices"
)

// Limits bound what a timeline page holds, whatever the trace's size:
// beyond Runs vCPU runs (all pCPUs together) the runs are aggregated into
// time bins, each showing the vCPU that ran most of it; beyond Marks
// marks, the marks become a density strip of Bins to 2×Bins bins per pCPU.
type Limits struct {
	Runs, Marks, Bins int
}

// DefaultLimits keep a page under 20 MiB, and quick to draw.
var DefaultLimits = Limits{Runs: 300_000, Marks: 200_000, Bins: 4000}

// TimelineData is what the page's script draws (its JSON is embedded in
// the page). Times are ns from the window's start; lists of intervals are
// flat arrays whose start times are deltas from the previous start in the
// same list, to keep the page small.
type TimelineData struct {
	Title      string            `json:"title"`
	BeginWall  string            `json:"begin_wall"` // wall-clock time of the window's start
	DurationNS uint64            `json:"duration_ns"`
	Events     uint64            `json:"events"`
	Who        []Who             `json:"who"`
	Kinds      []string          `json:"kinds"`
	Hypercalls map[uint64]string `json:"hypercall_names"`
	// RunsBinNS is 0 when every run is drawn as it was, else the width of
	// the bins runs were aggregated into; MarksBinNS likewise for marks.
	RunsBinNS  uint64     `json:"runs_bin_ns"`
	MarksBinNS uint64     `json:"marks_bin_ns"`
	Lanes      []LaneData `json:"lanes"`
}

// LaneData is one pCPU's lane.
type LaneData struct {
	CPU uint32 `json:"cpu"`
	// Runs: Δbegin, length, index in Who; per run or aggregated bin.
	Runs []uint64 `json:"runs"`
	// Marks (when MarksBinNS is 0): Δtime, duration, kind (index in
	// Kinds), arg (op, irq, address), arg2 (vector; domain<<16|vcpu).
	Marks []uint64 `json:"marks"`
	// Density (when MarksBinNS > 0): per kind, marks per bin.
	Density [][]uint32 `json:"density"`
	Offline []uint64   `json:"offline"` // Δbegin, length
	Lost    []uint64   `json:"lost"`    // Δbegin, length, records lost
}

// Data returns the page's data, end being the end of the window a
// [Replayer.Finish] returned, aggregated within the Timeline's limits.
func (tl *Timeline) Data(title, beginWall string, events, end uint64) TimelineData {
	lim := tl.lim
	d := TimelineData{
		Title: title, BeginWall: beginWall, DurationNS: end - min(end, tl.begin), Events: events,
		Who: slices.Clone(tl.who), Kinds: []string{"hypercall", "irq", "page_fault"}, Hypercalls: map[uint64]string{},
	}
	if d.Who == nil {
		d.Who = []Who{}
	}
	cpus := tl.sortedCPUs()
	var nRuns int
	for _, c := range cpus {
		nRuns += len(tl.lanes[c].runs)
	}
	n := uint64(max(1, len(cpus)))
	if nRuns > lim.Runs {
		d.RunsBinNS = max(1, (d.DurationNS*n+uint64(lim.Runs)-1)/uint64(lim.Runs))
	}
	if tl.dense {
		d.MarksBinNS = tl.binW
	}
	for op := range tl.ops {
		d.Hypercalls[op] = HypercallLabel(op)
	}
	for _, c := range cpus {
		l := tl.lanes[c]
		ld := LaneData{CPU: c, Runs: []uint64{}, Marks: []uint64{}, Density: [][]uint32{}, Offline: []uint64{}, Lost: []uint64{}}
		if d.RunsBinNS == 0 {
			var prev uint64
			for _, r := range l.runs {
				ld.Runs = append(ld.Runs, r.b-prev, r.e-r.b, uint64(r.who))
				prev = r.b
			}
		} else {
			ld.Runs = binRuns(l.runs, d.RunsBinNS, len(d.Who))
		}
		if d.MarksBinNS == 0 {
			slices.SortFunc(l.marks, func(a, b mark) int { return cmp.Compare(a.t, b.t) })
			var prev uint64
			for _, m := range l.marks {
				ld.Marks = append(ld.Marks, m.t-prev, m.dur, uint64(m.kind), m.arg, m.arg2)
				prev = m.t
			}
		} else {
			for k := range numMarkKinds {
				ld.Density = append(ld.Density, l.density[k])
				if ld.Density[k] == nil {
					ld.Density[k] = []uint32{}
				}
			}
		}
		var prev uint64
		for _, o := range l.offline {
			ld.Offline = append(ld.Offline, o[0]-prev, o[1]-o[0])
			prev = o[0]
		}
		slices.SortFunc(l.lost, func(a, b lostGap) int { return cmp.Compare(a.b, b.b) })
		prev = 0
		for _, g := range l.lost {
			ld.Lost = append(ld.Lost, g.b-prev, g.e-g.b, g.count)
			prev = g.b
		}
		d.Lanes = append(d.Lanes, ld)
	}
	if d.Lanes == nil {
		d.Lanes = []LaneData{}
	}
	return d
}

// binRuns aggregates runs (in time order, not overlapping) into bins of
// width bin: each bin that holds any run time becomes the vCPU that ran
// longest in it, and neighbouring bins of the same vCPU one interval.
// The result is in [LaneData.Runs]' form.
func binRuns(runs []run, bin uint64, nWho int) []uint64 {
	out := []uint64{}
	acc := make([]uint64, nWho)
	var touched []int
	cur := uint64(0) // bin being accumulated
	var segB, segE, prev uint64
	segWho := -1
	flush := func() {
		best, bestT := -1, uint64(0)
		for _, w := range touched {
			if acc[w] > bestT {
				best, bestT = w, acc[w]
			}
			acc[w] = 0
		}
		touched = touched[:0]
		if best < 0 {
			return
		}
		b, e := cur*bin, (cur+1)*bin
		if best == segWho && segE == b {
			segE = e
			return
		}
		if segWho >= 0 {
			out = append(out, segB-prev, segE-segB, uint64(segWho))
			prev = segB
		}
		segB, segE, segWho = b, e, best
	}
	add := func(w int, d uint64) {
		if acc[w] == 0 {
			touched = append(touched, w)
		}
		acc[w] += d
	}
	for _, r := range runs {
		for b := r.b; b < r.e; {
			i := b / bin
			if i != cur {
				flush()
				cur = i
			}
			e := min(r.e, (i+1)*bin)
			add(r.who, e-b)
			b = e
		}
	}
	flush()
	if segWho >= 0 {
		out = append(out, segB-prev, segE-segB, uint64(segWho))
	}
	return out
}
