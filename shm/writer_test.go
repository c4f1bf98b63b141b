package shm

import (
	"errors"
	"runtime"
	"sync"
	"testing"
)

// writeRecordW is writeRecord through a batching Writer.
func writeRecordW(w *Writer, writer uint32, counter uint64) error {
	n := recSize(counter)
	buf, ts, err := w.Reserve(n)
	if err != nil {
		return err
	}
	le.PutUint64(buf[0:], ts)
	le.PutUint32(buf[8:], writer)
	le.PutUint32(buf[12:], uint32(n))
	le.PutUint64(buf[16:], counter)
	for i := recHdr; i < n; i++ {
		buf[i] = byte(counter)
	}
	w.Commit()
	return nil
}

// runWriters is runConcurrent with batching Writers that flush every
// batch records, as the hypervisor's pCPUs do at the end of a batch.
func runWriters(t *testing.T, g Geometry, writers int, perWriter uint64, batch uint64) concResult {
	wake, deliver := wakeChan()
	ch, cons := newTestChannel(t, g, deliver)
	stop := make(chan struct{})
	done := make(chan []testPacket)
	go func() { done <- drain(t, cons, wake, stop) }()
	var mu sync.Mutex
	var res concResult
	var wg sync.WaitGroup
	for id := range writers {
		wg.Go(func() {
			w := ch.Writer()
			var written, attempts uint64
			for i := range perWriter {
				attempts++
				switch err := writeRecordW(&w, uint32(id), i); {
				case err == nil:
					written++
				case errors.Is(err, ErrFull):
					runtime.Gosched()
				default:
					t.Errorf("writer %d: %v", id, err)
				}
				if (i+1)%batch == 0 {
					w.Flush()
				}
			}
			w.Flush()
			mu.Lock()
			res.written += written
			res.attempts += attempts
			mu.Unlock()
		})
	}
	wg.Wait()
	ch.Flush(true)
	close(stop)
	res.packets = <-done
	res.ch = ch
	return res
}

func TestWriterRoomy(t *testing.T) {
	writers := runtime.GOMAXPROCS(0)*2 + 1
	const perWriter = 3000
	res := runWriters(t, Geometry{SubbufSize: 64 << 10, NumSubbuf: 64}, writers, perWriter, 256)
	if res.written != res.attempts {
		t.Fatalf("roomy buffer lost records: wrote %d of %d", res.written, res.attempts)
	}
	for w, got := range checkStream(t, res, writers) {
		if len(got) != perWriter {
			t.Errorf("writer %d: %d records decoded, want %d", w, len(got), perWriter)
			continue
		}
		for i, c := range got {
			if c != uint64(i) {
				t.Errorf("writer %d: record %d is #%d", w, i, c)
				break
			}
		}
	}
}

// TestWriterStarved: a tiny buffer, writers that hold commits for a whole
// batch: every record is either decoded or counted as discarded, and
// packets are still delivered (no writer's pending bytes wedge the ring).
func TestWriterStarved(t *testing.T) {
	writers := runtime.GOMAXPROCS(0)*2 + 1
	const perWriter = 20000
	res := runWriters(t, Geometry{SubbufSize: 4096, NumSubbuf: 2}, writers, perWriter, 64)
	st := res.ch.Stats()
	if res.written+st.LostFull != res.attempts {
		t.Fatalf("written %d + discarded %d != attempted %d", res.written, st.LostFull, res.attempts)
	}
	var decoded uint64
	for _, got := range checkStream(t, res, writers) {
		decoded += uint64(len(got))
	}
	if decoded != res.written {
		t.Errorf("decoded %d records, writers committed %d", decoded, res.written)
	}
	if last := res.packets[len(res.packets)-1]; last.discarded != st.LostFull {
		t.Errorf("last packet's events_discarded = %d, channel counted %d", last.discarded, st.LostFull)
	}
}

// TestWriterHoldsDelivery: a packet is delivered only when the writer that
// wrote into it flushes.
func TestWriterHoldsDelivery(t *testing.T) {
	g := Geometry{SubbufSize: 4096, NumSubbuf: 4}
	var delivered []uint64
	ch, _ := newTestChannel(t, g, func(seq uint64) { delivered = append(delivered, seq) })
	w := ch.Writer()
	if err := writeRecordW(&w, 0, 1); err != nil {
		t.Fatal(err)
	}
	if !ch.Flush(false) {
		t.Fatal("Flush did not close the open packet")
	}
	if len(delivered) != 0 {
		t.Fatalf("packet delivered while the writer still held its record: %v", delivered)
	}
	w.Flush()
	if len(delivered) != 1 || delivered[0] != 0 {
		t.Fatalf("after the writer's flush, delivered %v, want [0]", delivered)
	}
}
