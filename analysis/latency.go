package analysis

import "slices"

// latencies collects durations, in ns, and gives their percentiles.
type latencies struct{ v []uint64 }

func (l *latencies) add(d uint64) { l.v = append(l.v, d) }

// Percentiles returns the nearest-rank p50 and p99 and the maximum (all 0
// when empty). It sorts the collected values.
func (l *latencies) percentiles() (p50, p99, maxv uint64) {
	n := len(l.v)
	if n == 0 {
		return 0, 0, 0
	}
	slices.Sort(l.v)
	rank := func(p int) uint64 { return l.v[(p*n+99)/100-1] } // ceil(p/100 × n), 1-based
	return rank(50), rank(99), l.v[n-1]
}
