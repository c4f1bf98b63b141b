package record

import (
	"bytes"
	"fmt"
	"os"
	"time"
)

// ClockName, ClockDescription and ClockFreq describe [Monotonic] in the
// metadata (TraceInfo's defaults).
const (
	ClockName        = "monotonic"
	ClockDescription = "Monotonic Clock"
	ClockFreq        = 1_000_000_000
)

// Monotonic returns the monotonic clock in nanoseconds (CLOCK_MONOTONIC:
// it never jumps, and stops while the machine is suspended). It is the
// timestamp source of records; safe for concurrent use.
func Monotonic() uint64 { return uint64(nanotime()) }

// ClockOffset returns the offset of the [Monotonic] clock from the Unix
// epoch, split as the metadata's clock offset_s (seconds) and offset (ns,
// in [0, 1e9)): realtime = monotonic + sec×1e9 + ns. It samples the two
// clocks a few times and keeps the sample whose monotonic reads bracket the
// realtime read most tightly; uncertainty is half that bracket, returned
// in ns.
func ClockOffset() (sec, ns, uncertainty int64) {
	const samples = 16
	best := int64(-1)
	var off int64
	for range samples {
		m0 := nanotime()
		wall := time.Now().UnixNano()
		m1 := nanotime()
		if d := m1 - m0; best < 0 || d < best {
			best = d
			off = wall - (m0 + d/2)
		}
	}
	sec, ns = off/1e9, off%1e9
	if ns < 0 {
		sec--
		ns += 1e9
	}
	return sec, ns, (best + 1) / 2
}

// BootID returns the kernel's boot id (/proc/sys/kernel/random/boot_id),
// which identifies the [Monotonic] clock's epoch: two traces with the same
// boot id have comparable monotonic timestamps. Use it as the clock UUID.
func BootID() ([16]byte, error) {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id, fmt.Errorf("read boot id: %w", err)
	}
	return ParseUUID(string(bytes.TrimSpace(b)))
}
