package shm

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
)

// A tiny test-only packet and record format, so the ring is tested without
// package record. Packet header (48 bytes): seq, tsBegin, tsEnd,
// contentBytes, discarded, magic. Record: ts u64, writer u32, len u32,
// counter u64, then len-24 filler bytes equal to byte(counter).
const (
	testHdr   = 48
	testMagic = 0x7e57_7e57_7e57_7e57
	recHdr    = 24
)

var le = binary.LittleEndian

// testClock is a strictly increasing clock shared by all writers.
type testClock struct{ t atomic.Uint64 }

func (c *testClock) now() uint64 { return c.t.Add(1) }

func testConfig(g Geometry, clk *testClock, deliver func(uint64)) Config {
	return Config{
		Geometry:   g,
		HeaderSize: testHdr,
		Clock:      clk.now,
		OpenPacket: func(p []byte, _ uint32, seq, ts uint64) {
			le.PutUint64(p[0:], seq)
			le.PutUint64(p[8:], ts)
			le.PutUint64(p[40:], testMagic)
		},
		ClosePacket: func(p []byte, ts, content, discarded uint64) {
			le.PutUint64(p[16:], ts)
			le.PutUint64(p[24:], content)
			le.PutUint64(p[32:], discarded)
		},
		Deliver: func(_ uint32, seq uint64) {
			if deliver != nil {
				deliver(seq)
			}
		},
	}
}

// newTestChannel returns the ring and the consumer stream of a one-pCPU
// channel on plain memory.
func newTestChannel(t testing.TB, g Geometry, deliver func(uint64)) (*Ring, *Stream) {
	t.Helper()
	ch, cons := newTestChannelCPUs(t, g, 1, testConfig(g, &testClock{}, deliver))
	return ch.Ring(0), cons.Stream(0)
}

// newTestChannelCPUs returns a channel of cpus rings on plain memory and
// its consumer.
func newTestChannelCPUs(t testing.TB, g Geometry, cpus int, cfg Config) (*Channel, *Consumer) {
	t.Helper()
	ctrl := make([]byte, ControlSize(cpus, g.NumSubbuf, 4096))
	consumed := make([]byte, ConsumerSize(cpus, 4096))
	buf := make([]byte, uint64(cpus)*g.Total())
	cfg.CPUs = cpus
	ch, err := NewChannel(ctrl, consumed, buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := NewConsumer(ctrl, consumed, buf)
	if err != nil {
		t.Fatal(err)
	}
	return ch, cons
}

func recSize(counter uint64) int { return recHdr + int(counter%11)*3 }

// writeRecord reserves, fills and commits one numbered record.
func writeRecord(ch *Ring, writer uint32, counter uint64) error {
	n := recSize(counter)
	r, err := ch.Reserve(n)
	if err != nil {
		return err
	}
	le.PutUint64(r.Buf[0:], r.TS)
	le.PutUint32(r.Buf[8:], writer)
	le.PutUint32(r.Buf[12:], uint32(n))
	le.PutUint64(r.Buf[16:], counter)
	for i := recHdr; i < n; i++ {
		r.Buf[i] = byte(counter)
	}
	ch.Commit(&r)
	return nil
}

type testRecord struct {
	ts      uint64
	writer  uint32
	counter uint64
}

type testPacket struct {
	seq, tsBegin, tsEnd, content, discarded uint64
	records                                 []testRecord
}

// parsePacket decodes and checks one packet of the test format.
func parsePacket(p []byte) (testPacket, error) {
	var tp testPacket
	if le.Uint64(p[40:]) != testMagic {
		return tp, fmt.Errorf("bad magic")
	}
	tp.seq, tp.tsBegin, tp.tsEnd = le.Uint64(p[0:]), le.Uint64(p[8:]), le.Uint64(p[16:])
	tp.content, tp.discarded = le.Uint64(p[24:]), le.Uint64(p[32:])
	if tp.content <= testHdr || tp.content > uint64(len(p)) {
		return tp, fmt.Errorf("packet %d: content %d out of range", tp.seq, tp.content)
	}
	off := uint64(testHdr)
	for off < tp.content {
		off = (off + 7) &^ 7
		if off+recHdr > tp.content {
			return tp, fmt.Errorf("packet %d: record header at %d beyond content %d", tp.seq, off, tp.content)
		}
		r := testRecord{ts: le.Uint64(p[off:]), writer: le.Uint32(p[off+8:]), counter: le.Uint64(p[off+16:])}
		n := uint64(le.Uint32(p[off+12:]))
		if n != uint64(recSize(r.counter)) || off+n > tp.content {
			return tp, fmt.Errorf("packet %d: record at %d has length %d", tp.seq, off, n)
		}
		for i := off + recHdr; i < off+n; i++ {
			if p[i] != byte(r.counter) {
				return tp, fmt.Errorf("packet %d: torn record at %d", tp.seq, off)
			}
		}
		if r.ts < tp.tsBegin || r.ts > tp.tsEnd {
			return tp, fmt.Errorf("packet %d: record ts %d outside [%d, %d]", tp.seq, r.ts, tp.tsBegin, tp.tsEnd)
		}
		tp.records = append(tp.records, r)
		off += n
	}
	if off != tp.content {
		return tp, fmt.Errorf("packet %d: records end at %d, content_size says %d", tp.seq, off, tp.content)
	}
	return tp, nil
}
