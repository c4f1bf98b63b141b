package shm

import (
	"errors"
	"sync"
	"testing"
	_ "unsafe" // go:linkname
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

func monoClock() uint64 { return uint64(nanotime()) }

// benchChannel returns a 1 MiB x 8 channel whose Deliver hook releases
// packets at once (a consumer that is never behind), so the writers measure
// the write path, not a full buffer.
func benchChannel(b *testing.B) *Ring {
	return benchChannelMode(b, ModeDiscard)
}

// benchChannelMode is benchChannel in the given mode. In overwrite mode
// nothing is ever consumed: after the first lap every packet switch
// reclaims a slot, the flight recorder's steady state.
func benchChannelMode(b *testing.B, mode Mode) *Ring {
	g := Geometry{SubbufSize: 1 << 20, NumSubbuf: 8}
	if mode == ModeOverwrite {
		cfg := testConfig(g, nil, nil)
		cfg.Clock = monoClock
		cfg.Mode = mode
		ch, _ := newTestChannelCPUs(b, g, 1, cfg)
		return ch.Ring(0)
	}
	var cons *Stream
	var mu sync.Mutex
	cfg := testConfig(g, nil, func(uint64) {
		mu.Lock() // once per 1 MiB packet: a missed release would fill the ring
		for {
			if _, _, ok := cons.Next(); !ok {
				break
			}
			cons.Release()
		}
		mu.Unlock()
	})
	cfg.Clock = monoClock
	ch, c := newTestChannelCPUs(b, g, 1, cfg)
	cons = c.Stream(0)
	return ch.Ring(0)
}

// writeTwoInts is the record of a two-integer event (u64 + u32) in the
// record layout: timestamp, id, cpu, then the payload: 28 bytes.
func writeTwoInts(ch *Ring, cpu uint32, a uint64, x uint32) error {
	r, err := ch.Reserve(28)
	if err != nil {
		return err
	}
	p := r.Buf[:28]
	le.PutUint64(p[0:], r.TS)
	le.PutUint32(p[8:], 3)
	le.PutUint32(p[12:], cpu)
	le.PutUint64(p[16:], a)
	le.PutUint32(p[24:], x)
	ch.Commit(&r)
	return nil
}

// BenchmarkChannelTwoInts: clock, reserve, encode, commit of a 28-byte
// record, one writer.
func BenchmarkChannelTwoInts(b *testing.B) {
	ch := benchChannel(b)
	b.ReportAllocs()
	b.SetBytes(28)
	var lost int
	for i := uint64(0); b.Loop(); i++ {
		if err := writeTwoInts(ch, 0, i, uint32(i)); errors.Is(err, ErrFull) {
			lost++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
}

// BenchmarkChannelTwoIntsParallel: the same, all Ps contending on the
// single channel.
func BenchmarkChannelTwoIntsParallel(b *testing.B) {
	ch := benchChannel(b)
	b.ReportAllocs()
	b.SetBytes(28)
	b.RunParallel(func(pb *testing.PB) {
		var i uint64
		for pb.Next() {
			_ = writeTwoInts(ch, 1, i, uint32(i))
			i++
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// writeTwoIntsW is writeTwoInts through a batching Writer.
func writeTwoIntsW(w *Writer, cpu uint32, a uint64, x uint32) error {
	buf, ts, err := w.Reserve(28)
	if err != nil {
		return err
	}
	p := buf[:28]
	le.PutUint64(p[0:], ts)
	le.PutUint32(p[8:], 3)
	le.PutUint32(p[12:], cpu)
	le.PutUint64(p[16:], a)
	le.PutUint32(p[24:], x)
	w.Commit()
	return nil
}

// BenchmarkWriterTwoInts: the same record through a Writer, which commits
// once per packet and per batch of 256 records instead of once per record.
func BenchmarkWriterTwoInts(b *testing.B) { benchWriterTwoInts(b, ModeDiscard) }

// BenchmarkWriterTwoIntsOverwrite: the same in overwrite mode, no consumer:
// a slot is reclaimed at every packet switch.
func BenchmarkWriterTwoIntsOverwrite(b *testing.B) { benchWriterTwoInts(b, ModeOverwrite) }

func benchWriterTwoInts(b *testing.B, mode Mode) {
	ch := benchChannelMode(b, mode)
	b.ReportAllocs()
	b.SetBytes(28)
	w := ch.Writer()
	var lost int
	for i := uint64(0); b.Loop(); i++ {
		if err := writeTwoIntsW(&w, 0, i, uint32(i)); errors.Is(err, ErrFull) {
			lost++
		}
		if i%256 == 255 {
			w.Flush()
		}
	}
	w.Flush()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
}

// BenchmarkWriterTwoIntsParallel: Writers on all Ps contending.
func BenchmarkWriterTwoIntsParallel(b *testing.B) { benchWriterTwoIntsParallel(b, ModeDiscard) }

// BenchmarkWriterTwoIntsParallelOverwrite: the same in overwrite mode.
func BenchmarkWriterTwoIntsParallelOverwrite(b *testing.B) {
	benchWriterTwoIntsParallel(b, ModeOverwrite)
}

func benchWriterTwoIntsParallel(b *testing.B, mode Mode) {
	ch := benchChannelMode(b, mode)
	b.ReportAllocs()
	b.SetBytes(28)
	b.RunParallel(func(pb *testing.PB) {
		w := ch.Writer()
		var i uint64
		for pb.Next() {
			_ = writeTwoIntsW(&w, 1, i, uint32(i))
			if i%256 == 255 {
				w.Flush()
			}
			i++
		}
		w.Flush()
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

// BenchmarkBaselineCopy28 is the floor: storing the same 28 bytes into a
// slice, no clock, no atomics.
func BenchmarkBaselineCopy28(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(28)
	off := 0
	for i := uint64(0); b.Loop(); i++ {
		if off+32 > len(buf) {
			off = 0
		}
		p := buf[off : off+28]
		le.PutUint64(p[0:], i)
		le.PutUint32(p[8:], 3)
		le.PutUint32(p[12:], 0)
		le.PutUint64(p[16:], i)
		le.PutUint32(p[24:], uint32(i))
		off += 32
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}
