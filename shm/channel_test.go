package shm

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// drain collects every delivered packet until stop is closed and nothing
// more is ready. It blocks on wake, never spins.
func drain(t *testing.T, cons *Stream, wake <-chan struct{}, stop <-chan struct{}) []testPacket {
	t.Helper()
	var out []testPacket
	for {
		for {
			p, seq, ok := cons.Next()
			if !ok {
				break
			}
			tp, err := parsePacket(p)
			if err != nil {
				t.Errorf("packet %d: %v", seq, err)
			}
			if tp.seq != seq {
				t.Errorf("slot holds packet %d, want %d", tp.seq, seq)
			}
			out = append(out, tp)
			cons.Release()
		}
		select {
		case <-wake:
		case <-stop:
			// One last look: deliveries before stop are visible now.
			if _, _, ok := cons.Next(); ok {
				continue
			}
			return out
		}
	}
}

func wakeChan() (chan struct{}, func(uint64)) {
	wake := make(chan struct{}, 1)
	return wake, func(uint64) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

type concResult struct {
	packets           []testPacket
	written, attempts uint64
	ch                *Ring
}

// runConcurrent has writers goroutines write perWriter numbered records
// each while one consumer drains, then flushes and collects everything.
func runConcurrent(t *testing.T, g Geometry, writers int, perWriter uint64) concResult {
	wake, deliver := wakeChan()
	ch, cons := newTestChannel(t, g, deliver)
	stop := make(chan struct{})
	var packets []testPacket
	done := make(chan struct{})
	go func() { packets = drain(t, cons, wake, stop); close(done) }()

	var written, attempts atomic.Uint64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				attempts.Add(1)
				err := writeRecord(ch, uint32(w), i)
				switch {
				case err == nil:
					written.Add(1)
				case errors.Is(err, ErrFull):
					runtime.Gosched() // let the consumer run on a starved buffer
				default:
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	ch.Flush(true)
	close(stop)
	<-done
	return concResult{packets: packets, written: written.Load(), attempts: attempts.Load(), ch: ch}
}

func checkStream(t *testing.T, res concResult, writers int) (perWriter [][]uint64) {
	t.Helper()
	perWriter = make([][]uint64, writers)
	var lastTS, lastDiscarded uint64
	for i, p := range res.packets {
		if p.seq != uint64(i) {
			t.Fatalf("packet %d has seq %d", i, p.seq)
		}
		if p.discarded < lastDiscarded {
			t.Errorf("packet %d: events_discarded %d < previous %d", p.seq, p.discarded, lastDiscarded)
		}
		lastDiscarded = p.discarded
		if p.tsBegin < lastTS {
			t.Errorf("packet %d begins at %d before previous end %d", p.seq, p.tsBegin, lastTS)
		}
		for _, r := range p.records {
			if r.ts < lastTS {
				t.Fatalf("timestamp went back: %d after %d", r.ts, lastTS)
			}
			lastTS = r.ts
			perWriter[r.writer] = append(perWriter[r.writer], r.counter)
		}
		lastTS = max(lastTS, p.tsEnd)
	}
	return perWriter
}

func TestConcurrentRoomy(t *testing.T) {
	writers := runtime.GOMAXPROCS(0)*2 + 1
	const perWriter = 3000
	res := runConcurrent(t, Geometry{SubbufSize: 64 << 10, NumSubbuf: 64}, writers, perWriter)
	if res.written != res.attempts {
		t.Fatalf("roomy buffer lost records: wrote %d of %d (stats %+v)", res.written, res.attempts, res.ch.Stats())
	}
	per := checkStream(t, res, writers)
	for w, got := range per {
		if len(got) != perWriter {
			t.Errorf("writer %d: %d records decoded, want %d", w, len(got), perWriter)
			continue
		}
		for i, c := range got {
			if c != uint64(i) {
				t.Errorf("writer %d: record %d is #%d (order broken or duplicated)", w, i, c)
				break
			}
		}
	}
	if last := res.packets[len(res.packets)-1]; last.discarded != 0 {
		t.Errorf("roomy buffer reports %d discarded", last.discarded)
	}
}

func TestConcurrentStarved(t *testing.T) {
	writers := runtime.GOMAXPROCS(0)*2 + 1
	const perWriter = 20000
	res := runConcurrent(t, Geometry{SubbufSize: 4096, NumSubbuf: 2}, writers, perWriter)
	st := res.ch.Stats()
	if res.written+st.LostFull != res.attempts {
		t.Fatalf("written %d + discarded %d != attempted %d", res.written, st.LostFull, res.attempts)
	}
	if st.LostFull == 0 {
		t.Skip("the consumer kept up with a 2 x 4 KiB buffer; no loss to check")
	}
	per := checkStream(t, res, writers)
	var decoded uint64
	for w, got := range per {
		decoded += uint64(len(got))
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("writer %d: #%d after #%d", w, got[i], got[i-1])
			}
		}
	}
	if decoded != res.written {
		t.Errorf("decoded %d records, writers committed %d", decoded, res.written)
	}
	last := res.packets[len(res.packets)-1]
	if last.discarded != st.LostFull {
		t.Errorf("last packet's cumulative events_discarded = %d, channel counted %d", last.discarded, st.LostFull)
	}
	if c := res.ch.Control(); c.LostFull() != st.LostFull || c.Delivered() != uint64(len(res.packets)) {
		t.Errorf("control page publishes lost %d delivered %d; want %d, %d", c.LostFull(), c.Delivered(), st.LostFull, len(res.packets))
	}
}

func TestFlush(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 2}
	ch, cons := newTestChannel(t, g, nil)
	if ch.Flush(true) {
		t.Fatal("flush of an empty channel closed a packet")
	}
	for i := range uint64(3) {
		if err := writeRecord(ch, 0, i); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok := cons.Next(); ok {
		t.Fatal("a partial packet was delivered before flush")
	}
	if !ch.Flush(false) {
		t.Fatal("flush did not close the partial packet")
	}
	p, _, ok := cons.Next()
	if !ok {
		t.Fatal("flushed packet not delivered")
	}
	tp, err := parsePacket(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.records) != 3 || tp.content >= g.SubbufSize {
		t.Errorf("flushed packet: %d records, content %d", len(tp.records), tp.content)
	}
	if ch.Flush(true) {
		t.Error("second flush closed an empty packet")
	}
	cons.Release()
	// A record after the flush opens packet 1.
	if err := writeRecord(ch, 0, 9); err != nil {
		t.Fatal(err)
	}
	ch.Flush(true)
	if p, seq, ok := cons.Next(); !ok || seq != 1 {
		t.Fatalf("packet after flush: ok=%v seq=%d", ok, seq)
	} else if tp, err := parsePacket(p); err != nil || len(tp.records) != 1 {
		t.Fatalf("packet 1: %v, %+v", err, tp)
	}
}

func TestPeriodicFlushKeepsLossReportable(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 2}
	ch, _ := newTestChannel(t, g, nil)
	// Fill packets 0 and 1 (never consumed), leaving packet 1 open.
	var i uint64
	for ch.Stats().WriteOffset < g.SubbufSize+testHdr+64 {
		if err := writeRecord(ch, 0, i); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		i++
	}
	if ch.Flush(false) {
		t.Fatal("periodic flush closed a packet while the next slot is held by the consumer")
	}
	if !ch.Flush(true) {
		t.Fatal("final flush must close")
	}
}

func TestTooBig(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 2}
	ch, _ := newTestChannel(t, g, nil)
	if _, err := ch.Reserve(4096 - testHdr); err != nil {
		t.Fatalf("a record filling the payload exactly: %v", err)
	}
	_, err := ch.Reserve(4096 - testHdr + 1)
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("err = %v, want ErrTooBig", err)
	}
	if st := ch.Stats(); st.LostTooBig != 1 || ch.Control().LostTooBig() != 1 {
		t.Errorf("too-big count %d (published %d), want 1", st.LostTooBig, ch.Control().LostTooBig())
	}
}

func TestDiscardWhenFull(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 2}
	ch, cons := newTestChannel(t, g, nil)
	var i uint64
	var lost int
	for ; lost < 5; i++ {
		if err := writeRecord(ch, 0, i); errors.Is(err, ErrFull) {
			lost++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// Packet 0 is delivered, packet 1 is full but open; consume 0 and the
	// next record closes 1, reporting the 5 losses.
	if _, _, ok := cons.Next(); !ok {
		t.Fatal("packet 0 not delivered")
	}
	cons.Release()
	if err := writeRecord(ch, 0, i); err != nil {
		t.Fatal(err)
	}
	p, seq, ok := cons.Next()
	if !ok || seq != 1 {
		t.Fatalf("packet 1 not delivered (ok=%v seq=%d)", ok, seq)
	}
	tp, err := parsePacket(p)
	if err != nil {
		t.Fatal(err)
	}
	if tp.discarded != 5 {
		t.Errorf("packet 1 events_discarded = %d, want 5", tp.discarded)
	}
}

func TestBadConsumedRejected(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 8}
	ch, cons := newTestChannel(t, g, nil)
	ctrl := ch.Control()
	bad := []uint64{
		g.SubbufSize * 3,   // releases packets never delivered
		3,                  // not on a boundary
		1 << 62,            // far ahead
		g.Total() * 1000,   // ahead by many laps
		^uint64(0) &^ 4095, // wrapped
	}
	var i uint64
	for _, v := range bad {
		cons.cons.Store(0, v)
		// Write until a new packet is opened: the slow path reads the
		// consumed offset.
		for start := ch.Stats().WriteOffset >> 12; ch.Stats().WriteOffset>>12 == start; i++ {
			if err := writeRecord(ch, 0, i); err != nil {
				t.Fatalf("record %d with consumed=%#x: %v", i, v, err)
			}
		}
	}
	if got := ch.Stats().BadConsumed; got != uint64(len(bad)) {
		t.Errorf("bad consumed count %d, want %d", got, len(bad))
	}
	if ctrl.BadConsumed() != uint64(len(bad)) {
		t.Errorf("published bad consumed %d", ctrl.BadConsumed())
	}
	// The consumer mends its ways: everything still in the buffer is intact.
	cons.cons.Store(0, 0)
	ch.Flush(true)
	n := 0
	for {
		p, _, ok := cons.Next()
		if !ok {
			break
		}
		if _, err := parsePacket(p); err != nil {
			t.Fatalf("packet corrupted after bad consumed offsets: %v", err)
		}
		cons.Release()
		n++
	}
	if n == 0 {
		t.Fatal("no packet survived")
	}
}

func TestNewChannelRejects(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 2}
	clk := &testClock{}
	good := func() Config { return testConfig(g, clk, nil) }
	ctrl := make([]byte, 4096)
	consumed := make([]byte, 4096)
	for _, tc := range []struct {
		name string
		mod  func(*Config, *[]byte)
		want error
	}{
		{"bad geometry", func(c *Config, _ *[]byte) { c.Geometry.NumSubbuf = 3 }, ErrGeometry},
		{"unknown mode", func(c *Config, _ *[]byte) { c.Mode = 7 }, ErrMode},
		{"short buffer", func(_ *Config, b *[]byte) { *b = (*b)[:4096] }, ErrTooSmall},
		{"header not aligned", func(c *Config, _ *[]byte) { c.HeaderSize = 44 }, ErrGeometry},
		{"header too big", func(c *Config, _ *[]byte) { c.HeaderSize = 4096 }, ErrGeometry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, buf := good(), make([]byte, g.Total())
			tc.mod(&cfg, &buf)
			if _, err := NewChannel(ctrl, consumed, buf, cfg); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPerCPURings: each pCPU's ring is its own stream. Writers on two rings
// never see each other's packets, loss is counted per ring, and a bad
// consumed offset for one ring is rejected without touching the other.
func TestPerCPURings(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	var mu sync.Mutex
	delivered := map[uint32][]uint64{}
	cfg := testConfig(g, &testClock{}, nil)
	cfg.OpenPacket = func(p []byte, cpu uint32, seq, ts uint64) {
		le.PutUint64(p[0:], seq)
		le.PutUint64(p[8:], ts)
		le.PutUint64(p[40:], testMagic|uint64(cpu))
	}
	cfg.Deliver = func(cpu uint32, seq uint64) {
		mu.Lock()
		delivered[cpu] = append(delivered[cpu], seq)
		mu.Unlock()
	}
	ch, cons := newTestChannelCPUs(t, g, 3, cfg)
	// Ring 0 fills up (nobody consumes), ring 1 is consumed as it goes,
	// ring 2 never writes.
	var i uint64
	for ch.Ring(0).Stats().LostFull == 0 {
		if err := writeRecord(ch.Ring(0), 0, i); err != nil && !errors.Is(err, ErrFull) {
			t.Fatal(err)
		}
		i++
	}
	s1 := cons.Stream(1)
	for range 4 * g.NumSubbuf {
		for start := ch.Ring(1).Stats().WriteOffset >> 12; ch.Ring(1).Stats().WriteOffset>>12 == start; i++ {
			if err := writeRecord(ch.Ring(1), 1, i); err != nil {
				t.Fatalf("ring 1 dropped a record while consumed: %v", err)
			}
		}
		for {
			p, _, ok := s1.Next()
			if !ok {
				break
			}
			if got := le.Uint64(p[40:]); got != testMagic|1 {
				t.Fatalf("stream 1 got a packet of ring %d", got^testMagic)
			}
			s1.Release()
		}
	}
	if st := ch.Ring(1).Stats(); st.LostFull != 0 || st.Delivered < 3*g.NumSubbuf {
		t.Errorf("ring 1: %+v, want no loss and >= %d packets", st, 3*g.NumSubbuf)
	}
	if n := ch.Control().CPU(0).LostFull(); n == 0 || n != ch.Ring(0).Stats().LostFull {
		t.Errorf("ring 0 publishes %d lost, counts %d", n, ch.Ring(0).Stats().LostFull)
	}
	if st := ch.Ring(2).Stats(); st != (Stats{}) {
		t.Errorf("idle ring 2 has counters %+v", st)
	}
	if len(delivered[2]) != 0 || len(delivered[0]) != int(g.NumSubbuf)-1 {
		t.Errorf("deliveries per ring: %v", delivered)
	}
	// A scribble on ring 0's consumed word is rejected; ring 1 is unharmed.
	cons.Stream(0).cons.Store(0, 3)
	writeRecord(ch.Ring(0), 0, i)
	if ch.Ring(0).Stats().BadConsumed != 1 || ch.Ring(1).Stats().BadConsumed != 0 {
		t.Errorf("bad consumed: ring 0 %d, ring 1 %d", ch.Ring(0).Stats().BadConsumed, ch.Ring(1).Stats().BadConsumed)
	}
	if tot := ch.Stats(); tot.LostFull != ch.Ring(0).Stats().LostFull+ch.Ring(1).Stats().LostFull {
		t.Errorf("channel total lost %d", tot.LostFull)
	}
}
