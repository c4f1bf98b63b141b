package main

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// lineTransfer measures how long one cache line takes to move between
// CPUs a and b: two threads pinned there hand a counter back and forth
// for d; each hand-off is one transfer of the line. It is the floor of
// what any write path pays per event when writers on two CPUs take turns
// on one shared word (the channel's head).
func lineTransfer(a, b int, d time.Duration) float64 {
	var line struct {
		_ [64]byte
		v atomic.Uint64
		_ [56]byte
	}
	stop := time.Now().Add(d)
	var stopFlag atomic.Bool
	done := make(chan uint64)
	player := func(cpu int, parity uint64) {
		runtime.LockOSThread() // never unlocked: the pinned thread exits with the goroutine
		var set unix.CPUSet
		set.Set(cpu)
		_ = unix.SchedSetaffinity(0, &set)
		var n uint64
		for !stopFlag.Load() {
			v := line.v.Load()
			if v&1 == parity {
				line.v.Store(v + 1)
				n++
				if n&1023 == 0 && time.Now().After(stop) {
					stopFlag.Store(true)
				}
			}
		}
		done <- n
	}
	t0 := time.Now()
	go player(a, 0)
	go player(b, 1)
	n := <-done + <-done
	elapsed := time.Since(t0)
	return float64(elapsed.Nanoseconds()) / float64(n)
}
