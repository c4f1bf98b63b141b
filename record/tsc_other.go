//go:build !amd64

package record

// Without a TSC the counter functions fall back to the monotonic clock and
// CalibrateTSC reports ErrNoTSC.

func readTSC() uint64        { return Monotonic() }
func readTSCOrdered() uint64 { return Monotonic() }
func invariantTSC() bool     { return false }
