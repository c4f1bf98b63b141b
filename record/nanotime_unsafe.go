package record

import _ "unsafe" // for go:linkname

// nanotime is the runtime's monotonic clock (CLOCK_MONOTONIC through the
// vDSO on Linux), the clock behind time.Now's monotonic reading. Calling it
// directly skips time.Now's wall-clock read: about half the cost.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64
