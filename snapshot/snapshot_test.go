package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// testTrace is an overwrite-mode channel of 2 pCPUs in the record format,
// on shared memory (outside the Go heap: the observer's copies race with
// writers by design, see shm.Observer), with its metadata.
type testTrace struct {
	ch   *shm.Channel
	obs  *shm.Observer
	meta []byte
	ev   *record.Event
	clk  uint64
	mu   sync.Mutex
}

func shared(t testing.TB, n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

func newTestTrace(t testing.TB, g shm.Geometry) *testTrace {
	const cpus = 2
	info := record.TraceInfo{UUID: [16]byte{1, 2, 3, 4}, Hostname: "test"}
	tab := record.Builtin()
	meta, err := record.Metadata(info, tab.Events())
	if err != nil {
		t.Fatal(err)
	}
	tt := &testTrace{meta: meta}
	tt.ev, _ = tab.Lookup(record.IDHypercallEntry)
	ctrl := shared(t, shm.ControlSize(cpus, g.NumSubbuf, 4096))
	buf := shared(t, cpus*int(g.Total()))
	tt.ch, err = shm.NewChannel(ctrl, shared(t, 4096), buf, shm.Config{
		Geometry: g, Mode: shm.ModeOverwrite, UUID: info.UUID, CPUs: cpus,
		HeaderSize: record.PacketHeaderSize,
		Clock: func() uint64 {
			tt.mu.Lock()
			defer tt.mu.Unlock()
			tt.clk++
			return tt.clk
		},
		OpenPacket: func(pkt []byte, cpu uint32, seq, ts uint64) {
			record.OpenPacket(pkt, info.UUID, 0, cpu, seq, ts)
		},
		ClosePacket: record.ClosePacket,
	})
	if err != nil {
		t.Fatal(err)
	}
	if tt.obs, err = shm.NewObserver(ctrl, buf); err != nil {
		t.Fatal(err)
	}
	return tt
}

// write writes n hypercall_entry records on pCPU cpu through a batching
// writer, flushing every 16, and returns the writer (not flushed at the end
// if hold).
func (tt *testTrace) write(t testing.TB, cpu, n int, first uint64) {
	w := tt.ch.Ring(cpu).Writer()
	for i := range uint64(n) {
		vals := []record.Value{record.Uint(first + i), record.Uint(uint64(cpu))}
		buf, ts, err := w.Reserve(tt.ev.Size(vals))
		if err != nil {
			t.Fatal(err)
		}
		tt.ev.Encode(buf, ts, vals)
		w.Commit()
		if i%16 == 15 {
			w.Flush()
		}
	}
	w.Flush()
}

// readDir decodes a snapshot directory and returns its records' op values
// per pCPU.
func readDir(t *testing.T, dir string) map[uint32][]uint64 {
	t.Helper()
	tr, err := record.OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32][]uint64{}
	for rec, err := range tr.Records() {
		if err != nil {
			t.Fatalf("decode %s: %v", dir, err)
		}
		v, _ := rec.Value("op")
		got[rec.CPU] = append(got[rec.CPU], v.U)
	}
	return got
}

// TestTakeNewestPackets: a snapshot of rings that wrapped holds each
// pCPU's newest delivered records, in order, without holes.
func TestTakeNewestPackets(t *testing.T) {
	g := shm.Geometry{SubbufSize: 4096, NumSubbuf: 4}
	tt := newTestTrace(t, g)
	tt.write(t, 0, 3000, 0)
	tt.write(t, 1, 1000, 0)
	dir := filepath.Join(t.TempDir(), "snap")
	res, err := Take(tt.obs, tt.meta, Config{Output: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Streams != 2 || res.Open != 0 {
		t.Errorf("result %+v: want 2 streams, no open packet", res)
	}
	got := readDir(t, dir)
	for cpu, n := range map[uint32]int{0: 3000, 1: 1000} {
		ops := got[cpu]
		if len(ops) == 0 {
			t.Fatalf("pCPU %d: no record", cpu)
		}
		for i := 1; i < len(ops); i++ {
			if ops[i] != ops[i-1]+1 {
				t.Fatalf("pCPU %d: record %d after %d", cpu, ops[i], ops[i-1])
			}
		}
		// The open packet is not taken while writers may run: the newest
		// record is in the last delivered packet, before the last written.
		if last := ops[len(ops)-1]; last >= uint64(n) {
			t.Errorf("pCPU %d: newest record %d, only %d written", cpu, last, n)
		}
	}
}

// TestTakePostMortem: with the producer gone, the open packet of each ring
// is completed up to the last committed record: the newest record taken is
// the last one flushed.
func TestTakePostMortem(t *testing.T) {
	g := shm.Geometry{SubbufSize: 4096, NumSubbuf: 4}
	tt := newTestTrace(t, g)
	tt.write(t, 0, 3001, 0)
	dir := filepath.Join(t.TempDir(), "pm")
	res, err := Take(tt.obs, tt.meta, Config{Output: dir, PostMortem: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Open != 1 {
		t.Errorf("result %+v: want the open packet of pCPU 0", res)
	}
	ops := readDir(t, dir)[0]
	if last := ops[len(ops)-1]; last != 3000 {
		t.Errorf("newest record %d, want 3000 (the last written and flushed)", last)
	}
}

// TestTakeMaxSize: --max-size keeps the newest packets that fit, the
// metadata counted.
func TestTakeMaxSize(t *testing.T) {
	g := shm.Geometry{SubbufSize: 4096, NumSubbuf: 8}
	tt := newTestTrace(t, g)
	tt.write(t, 0, 3000, 0)
	tt.write(t, 1, 3000, 0)
	all := filepath.Join(t.TempDir(), "all")
	full, err := Take(tt.obs, tt.meta, Config{Output: all})
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(len(tt.meta)) + 3*4096
	dir := filepath.Join(t.TempDir(), "small")
	res, err := Take(tt.obs, tt.meta, Config{Output: dir, MaxSize: limit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Packets != 3 || res.Dropped != full.Packets-3 || res.Bytes > limit {
		t.Errorf("max-size %d: %+v (all: %d packets)", limit, res, full.Packets)
	}
	a, s := readDir(t, all), readDir(t, dir)
	for cpu, ops := range s {
		whole := a[cpu]
		if len(ops) > 0 && ops[len(ops)-1] != whole[len(whole)-1] {
			t.Errorf("pCPU %d: newest record %d, the full snapshot's is %d", cpu, ops[len(ops)-1], whole[len(whole)-1])
		}
	}
	if _, err := Take(tt.obs, tt.meta, Config{Output: filepath.Join(t.TempDir(), "x"), MaxSize: 4096}); !errors.Is(err, ErrMaxSize) {
		t.Errorf("max-size 4096: %v, want ErrMaxSize", err)
	}
}

// TestTakeOutputRules: a non-empty output is refused without Force; with
// Force a trace is replaced but other files are not; a failed snapshot
// leaves no directory and no temporary behind.
func TestTakeOutputRules(t *testing.T) {
	g := shm.Geometry{SubbufSize: 4096, NumSubbuf: 4}
	tt := newTestTrace(t, g)
	tt.write(t, 0, 500, 0)
	base := t.TempDir()
	dir := filepath.Join(base, "snap")
	if _, err := Take(tt.obs, tt.meta, Config{Output: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := Take(tt.obs, tt.meta, Config{Output: dir}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("second snapshot to %s: %v, want ErrNotEmpty", dir, err)
	}
	tt.write(t, 1, 500, 0)
	if res, err := Take(tt.obs, tt.meta, Config{Output: dir, Force: true}); err != nil || res.Streams != 2 {
		t.Errorf("--force: %+v, %v", res, err)
	}
	other := filepath.Join(base, "other")
	os.Mkdir(other, 0o755)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Take(tt.obs, tt.meta, Config{Output: other, Force: true}); !errors.Is(err, ErrNotTrace) {
		t.Errorf("--force over other files: %v, want ErrNotTrace", err)
	}
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := Take(tt.obs, tt.meta, Config{Output: empty}); err != nil {
		t.Errorf("snapshot into an empty directory: %v", err)
	}
	if _, err := Take(tt.obs, tt.meta, Config{Output: filepath.Join(dir, "metadata", "x")}); err == nil {
		t.Error("snapshot under a file succeeded")
	}
	ents, _ := os.ReadDir(base)
	if len(ents) != 3 {
		t.Errorf("%d entries in %s, want snap, other, empty (no temporary left)", len(ents), base)
	}
}

// TestTakeTwoAtOnce: two snapshots to the same directory at once: one
// wins, the other fails with ErrRace or ErrNotEmpty, and the winner's
// trace is whole.
func TestTakeTwoAtOnce(t *testing.T) {
	g := shm.Geometry{SubbufSize: 4096, NumSubbuf: 4}
	tt := newTestTrace(t, g)
	tt.write(t, 0, 2000, 0)
	for range 20 {
		dir := filepath.Join(t.TempDir(), "snap")
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = Take(tt.obs, tt.meta, Config{Output: dir}) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrRace), errors.Is(err, ErrNotEmpty):
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 2 concurrent snapshots succeeded (%v)", ok, errs)
		}
		readDir(t, dir)
	}
}

// BenchmarkTake8MiB: a snapshot of 8 MiB of buffers (2 pCPUs x 4 MiB),
// written to a temporary directory.
func BenchmarkTake8MiB(b *testing.B) {
	g := shm.Geometry{SubbufSize: 256 << 10, NumSubbuf: 16}
	tt := newTestTrace(b, g)
	tt.write(b, 0, 200000, 0)
	tt.write(b, 1, 200000, 0)
	base := b.TempDir()
	b.SetBytes(int64(2 * g.Total()))
	i := 0
	for b.Loop() {
		i++
		if _, err := Take(tt.obs, tt.meta, Config{Output: filepath.Join(base, fmt.Sprint(i))}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy8MiB: the copy and re-check alone (what the writers run
// next to), without writing files.
func BenchmarkCopy8MiB(b *testing.B) {
	g := shm.Geometry{SubbufSize: 256 << 10, NumSubbuf: 16}
	tt := newTestTrace(b, g)
	tt.write(b, 0, 200000, 0)
	tt.write(b, 1, 200000, 0)
	b.SetBytes(int64(2 * g.Total()))
	for b.Loop() {
		if _, _, _, err := collect(tt.obs, tt.meta, false); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTakeDiskFull: a write that fails (the file-size limit, as a full
// disk would) is a clear error, and nothing is left behind: no output
// directory, no temporary.
func TestTakeDiskFull(t *testing.T) {
	g := shm.Geometry{SubbufSize: 4096, NumSubbuf: 8}
	tt := newTestTrace(t, g)
	tt.write(t, 0, 3000, 0)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 16 << 10 // the metadata fits, the stream does not
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	base := t.TempDir()
	_, err := Take(tt.obs, tt.meta, Config{Output: filepath.Join(base, "snap")})
	unix.Setrlimit(unix.RLIMIT_FSIZE, &old)
	if !errors.Is(err, unix.EFBIG) || !strings.Contains(err.Error(), "channel0_0") {
		t.Fatalf("snapshot past the file-size limit: %v, want EFBIG naming the stream", err)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 0 {
		t.Errorf("%d entries left in %s after a failed snapshot", len(ents), base)
	}
}
