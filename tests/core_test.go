package tests

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// The core issue's tests, in one process: N writer goroutines (more than
// GOMAXPROCS) write numbered hypercall_entry records (op = writer,
// vcpu = sequence number) into one shm channel; one consumer goroutine
// writes delivered packets to a trace directory, which record's decoder
// and babeltrace2 then read back.

type coreRun struct {
	dir               string
	written, attempts uint64
	stats             shm.Stats
	packets           int
}

func writeCoreTrace(t *testing.T, g shm.Geometry, writers int, perWriter uint64) coreRun {
	t.Helper()
	dir := t.TempDir()
	table := record.Builtin()
	var uuid [16]byte
	copy(uuid[:], "core-test-uuid!!")
	meta, err := record.Metadata(record.TraceInfo{UUID: uuid, Hostname: "core-test"}, table.Events())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	stream, err := os.Create(filepath.Join(dir, "channel0_0"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	wake := make(chan struct{}, 1)
	// One pCPU ring that every writer shares: the lock-free reservation
	// that lets emit and hotplug markers write beside a pCPU's own writer.
	ctrl := make([]byte, shm.ControlSize(1, g.NumSubbuf, 4096))
	consRegion := make([]byte, shm.ConsumerSize(1, 4096))
	buf := make([]byte, g.Total())
	channel, err := shm.NewChannel(ctrl, consRegion, buf, shm.Config{
		Geometry: g, UUID: uuid, HeaderSize: record.PacketHeaderSize, Clock: record.Monotonic,
		OpenPacket:  func(p []byte, cpu uint32, seq, ts uint64) { record.OpenPacket(p, uuid, 0, cpu, seq, ts) },
		ClosePacket: record.ClosePacket,
		Deliver: func(uint32, uint64) {
			select {
			case wake <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := shm.NewConsumer(ctrl, consRegion, buf)
	if err != nil {
		t.Fatal(err)
	}
	ch, cons := channel.Ring(0), reader.Stream(0)
	stop := make(chan struct{})
	consumed := make(chan int)
	go func() {
		n := 0
		for {
			for {
				p, _, ok := cons.Next()
				if !ok {
					break
				}
				if _, err := stream.Write(p); err != nil {
					t.Error(err)
				}
				cons.Release()
				n++
			}
			select {
			case <-wake:
			case <-stop:
				if _, _, ok := cons.Next(); ok {
					continue
				}
				consumed <- n
				return
			}
		}
	}()

	ev, _ := table.Lookup(record.IDHypercallEntry)
	var written, attempts atomic.Uint64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			vals := []record.Value{record.Uint(uint64(w)), {}}
			for i := range perWriter {
				vals[1] = record.Uint(i)
				attempts.Add(1)
				r, err := ch.Reserve(ev.Size(vals))
				if errors.Is(err, shm.ErrFull) {
					runtime.Gosched()
					continue
				} else if err != nil {
					t.Error(err)
					return
				}
				ev.Encode(r.Buf, r.TS, vals)
				ch.Commit(&r)
				written.Add(1)
			}
		})
	}
	wg.Wait()
	ch.Flush(true)
	close(stop)
	n := <-consumed
	return coreRun{dir: dir, written: written.Load(), attempts: attempts.Load(), stats: ch.Stats(), packets: n}
}

func TestCoreRoomyEveryRecordOnce(t *testing.T) {
	writers := runtime.GOMAXPROCS(0)*3 + 1
	const perWriter = 5000
	run := writeCoreTrace(t, shm.Geometry{SubbufSize: 64 << 10, NumSubbuf: 32}, writers, perWriter)
	if run.written != run.attempts {
		t.Fatalf("roomy buffer dropped records: %d of %d written", run.written, run.attempts)
	}
	tr, err := record.OpenTrace(run.dir)
	if err != nil {
		t.Fatal(err)
	}
	next := make([]uint64, writers)
	for rec, err := range tr.Records() {
		if err != nil {
			t.Fatal(err)
		}
		w, seq := rec.Values[0].U, rec.Values[1].U
		if seq != next[w] {
			t.Fatalf("writer %d: record #%d where #%d was due (lost, duplicated or reordered)", w, seq, next[w])
		}
		next[w]++
	}
	for w, n := range next {
		if n != perWriter {
			t.Errorf("writer %d: %d records decoded, want %d", w, n, perWriter)
		}
	}
}

func TestCoreStarvedLossIsCounted(t *testing.T) {
	writers := runtime.GOMAXPROCS(0)*3 + 1
	run := writeCoreTrace(t, shm.Geometry{SubbufSize: 4096, NumSubbuf: 2}, writers, 20000)
	lost := run.stats.LostFull
	if run.written+lost != run.attempts {
		t.Fatalf("written %d + discarded %d != attempted %d", run.written, lost, run.attempts)
	}
	tr, err := record.OpenTrace(run.dir)
	if err != nil {
		t.Fatal(err)
	}
	var decoded, discarded, lastCum uint64
	for p, err := range tr.Packets() {
		if err != nil {
			t.Fatal(err)
		}
		decoded += uint64(p.Records)
		discarded += p.Discarded
		lastCum = p.EventsDiscarded
	}
	if decoded != run.written || discarded != lost || lastCum != lost {
		t.Errorf("decoded %d (written %d); discarded deltas %d, last cumulative %d (counted %d)", decoded, run.written, discarded, lastCum, lost)
	}
	if lost == 0 {
		t.Log("no loss happened: the consumer kept up")
		return
	}
	testenv.Babeltrace(t)
	events, stderr, btDiscarded := babeltrace(t, run.dir)
	if uint64(len(events)) != run.written || btDiscarded != lost {
		t.Errorf("babeltrace2: %d events, %d discarded; want %d, %d\n%s", len(events), btDiscarded, run.written, lost, firstLines(stderr, 3))
	}
}

// The golden test: babeltrace2 prints exactly the records written, with
// their names and values, and nothing on stderr.
func TestCoreBabeltraceGolden(t *testing.T) {
	testenv.Babeltrace(t)
	const writers, perWriter = 3, 400
	run := writeCoreTrace(t, shm.Geometry{SubbufSize: 4096, NumSubbuf: 64}, writers, perWriter)
	events, stderr, discarded := babeltrace(t, run.dir)
	if stderr != "" || discarded != 0 {
		t.Errorf("babeltrace2 stderr: %q", stderr)
	}
	if len(events) != writers*perWriter {
		t.Fatalf("babeltrace2 printed %d events, want %d", len(events), writers*perWriter)
	}
	checkOrder(t, events)
	seen := map[string]bool{}
	for _, e := range events {
		if e.name != "hypercall_entry" {
			t.Fatalf("unexpected event %q", e.line)
		}
		// e.g. "... hypercall_entry: { cpu_id = 1 }, { op = 1, vcpu = 17 }"
		i := strings.Index(e.line, "{ op = ")
		if i < 0 {
			t.Fatalf("no fields in %q", e.line)
		}
		seen[e.line[i:]] = true
	}
	for w := range writers {
		for _, seq := range []uint64{0, perWriter / 2, perWriter - 1} {
			want := "{ op = " + strconv.Itoa(w) + ", vcpu = " + strconv.FormatUint(seq, 10) + " }"
			if !seen[want] {
				t.Errorf("babeltrace2 never printed %s", want)
			}
		}
	}
}
