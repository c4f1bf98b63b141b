package tests

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Hostile clients and the trust boundaries: docs/SECURITY.md says who may
// write what, and which test shows it.

// rawDial opens a SOCK_SEQPACKET connection without the wire package.
func rawDial(path string) (*net.UnixConn, error) {
	c, err := net.DialTimeout("unixpacket", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// hostileMessage sends one kind of bad input on c (kind picks it); it
// returns whether c should then be left open and silent.
func hostileMessage(c *net.UnixConn, kind int, r *rand.Rand) (hang bool) {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	switch kind % 9 {
	case 0: // random bytes
		b := make([]byte, 1+r.IntN(4096))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		c.Write(b)
	case 1: // a truncated request
		full := `{"op":"create","create":{"subbuf_size":4096,"num_subbuf":4,"mode":"discard"}}`
		c.Write([]byte(full[:1+r.IntN(len(full)-1)]))
	case 2: // a message over the size limit
		c.Write(make([]byte, wire.MaxMessageSize+1+r.IntN(4096)))
	case 3: // huge numbers where sizes and ids go
		c.Write([]byte(`{"op":"create","create":{"subbuf_size":18446744073709551615,"num_subbuf":9223372036854775808,"mode":"discard","switch_timer_ns":9223372036854775807}}`))
		c.Write([]byte(`{"op":"unmap","unmap":{"map_id":1e300}}`))
		c.Write([]byte(`{"op":"cpu_online","cpu":{"cpu":2147483647}}`))
	case 4: // descriptors attached to a request (requests carry none)
		n := 1 + r.IntN(16)
		fds := make([]int, n)
		for i := range fds {
			fds[i] = int(devnull.Fd())
		}
		c.WriteMsgUnix([]byte(`{"op":"status"}`), unix.UnixRights(fds...), nil)
	case 5: // descriptors with no body
		c.WriteMsgUnix(nil, unix.UnixRights(int(devnull.Fd())), nil)
	case 6: // valid JSON, nonsense ops and fields
		c.Write([]byte(`{"op":"` + strings.Repeat("A", r.IntN(1000)) + `"}`))
		c.Write([]byte(`[1,2,3]`))
		c.Write([]byte(`{"op":"status","create":{}}`))
	case 7: // connect, say nothing, hang up
	case 8: // connect, say nothing, stay
		return true
	}
	// Read whatever comes back so the server is not blocked on us.
	buf := make([]byte, wire.MaxMessageSize)
	oob := make([]byte, 1024)
	for range 3 {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, _, _, _, err := c.ReadMsgUnix(buf, oob); err != nil {
			break
		}
	}
	return false
}

// flood makes n hostile connections to path in batches of batch, the
// silent ones held open until the end of their batch.
func flood(t *testing.T, path string, n, batch int, seed uint64) {
	t.Helper()
	for start := 0; start < n; start += batch {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var held []*net.UnixConn
		for i := start; i < min(start+batch, n); i++ {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				c, err := rawDial(path)
				if err != nil {
					return // refused while full: that is the point
				}
				if hostileMessage(c, i, r) {
					mu.Lock()
					held = append(held, c)
					mu.Unlock()
					return
				}
				c.Close()
			})
		}
		wg.Wait()
		for _, c := range held {
			c.Close()
		}
	}
}

// 2000 hostile connections (1000 to each daemon, 100 at a time) during a
// live trace: random bytes, truncated and oversized messages, huge
// numbers, descriptors on requests, silence. Both daemons keep serving the
// real session, which ends with a whole trace.
func TestHostileClientsFlood(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	hv, d0 := s.startDaemons([]string{"--cpus", "2", "--rate", "5000"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	out := filepath.Join(t.TempDir(), "trace")
	lttd := s.startConsumer(out)
	s.ctl("start")
	hvFDs, d0FDs := fdCount(t, hv.cmd.Process.Pid), fdCount(t, d0.cmd.Process.Pid)

	var wg sync.WaitGroup
	wg.Go(func() { flood(t, s.sockPath("dom0.sock"), 1000, 100, 1) })
	wg.Go(func() { flood(t, s.sockPath("hypervisor.sock"), 1000, 100, 2) })
	// The real session is served during the flood.
	for range 5 {
		if st := s.status(); st.State != "started" || st.Readers != 1 {
			t.Errorf("status during the flood: state %s readers %d", st.State, st.Readers)
		}
	}
	wg.Wait()

	s.ctl("stop")
	st := s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d after the flood:\n%s", code, lttd.stderr)
	}
	checkExact(t, out, st)
	s.checkTrace(out)
	// Every hostile connection is gone: no descriptor is left behind.
	eventually(t, 15*time.Second, "descriptors left behind by the flood", func() bool {
		return fdCount(t, hv.cmd.Process.Pid) <= hvFDs && fdCount(t, d0.cmd.Process.Pid) <= d0FDs
	})
}

// A client that connects and stalls cannot block others: with dom0 given
// more silent connections than MaxClients (each new one pushes out the
// oldest that holds nothing) and the hypervisor full of silent unbound
// ones, tools still get prompt answers.
func TestHostileStalledClients(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1"})
	var held []*net.UnixConn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 300 { // dom0.MaxClients is 256
		if c, err := rawDial(s.sockPath("dom0.sock")); err == nil {
			held = append(held, c)
		}
	}
	for range 100 { // more than the hypervisor's MaxConns
		if c, err := rawDial(s.sockPath("hypervisor.sock")); err == nil {
			held = append(held, c)
		}
	}
	// A half-sent request on a connection of its own does not stall the rest.
	if c, err := rawDial(s.sockPath("dom0.sock")); err == nil {
		held = append(held, c)
		c.Write([]byte(`{"op":`))
	}
	t0 := time.Now()
	s.ctl("create")
	s.ctl("start")
	s.ctl("stop")
	s.ctl("destroy")
	if d := time.Since(t0); d > 20*time.Second { // well below the 30 s idle deadline
		t.Errorf("create/start/stop/destroy took %v with stalled clients around", d)
	}
}

// After a dom0 restart the new dom0 must be able to bind even while a
// hostile local process keeps the hypervisor's connection table full of
// silent, unbound connections (refilling it as slots free up).
func TestHostileIdleFloodCannotLockOutDom0(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	_, d0 := s.startDaemons([]string{"--cpus", "1"})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	// Keep as many silent connections open as the hypervisor takes.
	for range 80 {
		wg.Go(func() {
			for {
				c, err := rawDial(s.sockPath("hypervisor.sock"))
				if err == nil {
					buf := make([]byte, 512)
					c.SetReadDeadline(time.Now().Add(30 * time.Second))
					go func() { <-stop; c.Close() }()
					c.Read(buf) // until the hypervisor hangs up or stop
					c.Close()
				}
				select {
				case <-stop:
					return
				default:
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	s.kill(d0)
	d0b := s.start("dom0", "dom0 ready")
	waitStderr(t, d0b, "bound VIRQ_TBUF", 1, 5*time.Second)
}

// Only the dom0 that bound VIRQ_TBUF may make hypercalls: a second client
// of hypervisor.sock is refused every hypercall and cannot take the
// binding over.
func TestHostileSecondHypercallClient(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1"})
	s.ctl("create")
	c := s.dial("hypervisor.sock")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, req := range []*wire.Request{
		{Op: wire.OpStatus},
		{Op: wire.OpMap},
		{Op: wire.OpTraceStart},
		{Op: wire.OpTraceDestroy},
		{Op: wire.OpMetadata},
		{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: 1}},
	} {
		if _, _, err := c.Call(req); !errors.Is(err, wire.ErrNotBound) {
			t.Errorf("%s from a second client: %v, want not_bound", req.Op, err)
		}
	}
	if _, _, err := c.Call(&wire.Request{Op: wire.OpBindVIRQ}); !errors.Is(err, wire.ErrExists) {
		t.Errorf("bind_virq from a second client: %v, want exists", err)
	}
	if st := s.status(); st.State != "created" {
		t.Errorf("the trace changed under a refused client: %s", st.State)
	}
}

// The producer-owned descriptors handed out through dom0's map, the
// control region and the buffer, cannot be used to change what the
// hypervisor publishes: no writable shared mapping (neither of the
// read-only descriptor nor of a read-write re-open through /proc), no
// write(2), no resize, no hole punched. This holds for the consumer role's
// mapping itself: a consumer writes only its consumed offsets.
func TestHostileProducerMemoryIsReadOnly(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	c := s.dial("dom0.sock")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, files, err := c.Call(&wire.Request{Op: wire.OpMap, Map: &wire.MapArgs{Role: wire.RoleConsumer}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		defer f.Close()
	}
	for _, tc := range []struct {
		name string
		f    *os.File
	}{{"control region", files[0]}, {"buffer", files[2]}} {
		t.Run(tc.name, func(t *testing.T) { checkReadOnlyMemfd(t, tc.f) })
	}
	// The consumer region is the consumer's to write, but not to resize.
	for _, n := range []int64{0, 1 << 20} {
		if err := unix.Ftruncate(int(files[1].Fd()), n); err == nil {
			t.Errorf("the consumer region was resized to %d", n)
		}
	}
}

func checkReadOnlyMemfd(t *testing.T, f *os.File) {
	fd := int(f.Fd())
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	size := int(st.Size)
	if m, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err == nil {
		unix.Munmap(m)
		t.Error("the descriptor was mapped shared and writable")
	}
	if m, err := unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		t.Errorf("read-only mapping: %v", err)
	} else {
		if err := unix.Mprotect(m, unix.PROT_READ|unix.PROT_WRITE); err == nil {
			t.Error("a read-only mapping was made writable with mprotect")
		}
		unix.Munmap(m)
	}
	if _, err := unix.Pwrite(fd, []byte("x"), 0); err == nil {
		t.Error("write(2) to the descriptor succeeded")
	}
	if err := unix.Ftruncate(fd, 0); err == nil {
		t.Error("resized through its descriptor")
	}
	punch := unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_KEEP_SIZE
	if err := unix.Fallocate(fd, uint32(punch), 0, 4096); err == nil {
		t.Error("a hole was punched through the descriptor")
	}
	// A read-write re-open of the same memfd is stopped by the seals.
	rw, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_RDWR, 0)
	if err == nil {
		defer rw.Close()
		rfd := int(rw.Fd())
		if m, err := unix.Mmap(rfd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err == nil {
			unix.Munmap(m)
			t.Error("a read-write re-open was mapped shared and writable")
		}
		if _, err := unix.Pwrite(rfd, []byte("x"), 0); err == nil {
			t.Error("write(2) to a read-write re-open succeeded")
		}
		for _, n := range []int64{0, int64(size) * 2} {
			if err := unix.Ftruncate(rfd, n); err == nil {
				t.Errorf("resized to %d through a read-write re-open", n)
			}
		}
		if err := unix.Fallocate(rfd, uint32(punch), 0, 4096); err == nil {
			t.Error("a hole was punched through a read-write re-open")
		}
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_SEAL
	if err != nil || seals&want != want {
		t.Errorf("seals %#x (%v), want at least %#x", seals, err, want)
	}
}

// A consumer that writes garbage into its own consumed offsets (the
// consumer region, one u64 per pCPU) while tracing: the hypervisor rejects
// every bad value, counts it (bad_consumed) and keeps tracing; nothing it
// publishes is touched. While it holds the consumer role a second consumer
// (lttd-xen) is refused at once, naming its pid, and writes nothing. Once
// it goes, lttd-xen --resume takes the role over and writes the whole trace:
// babeltrace2 reads every record written, and exactly the lost ones as
// discarded. The scribbler writes only values no well-behaved consumer would
// (unaligned, far ahead, or behind), each with a compare-and-swap.
func TestHostileConsumedScribble(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "5000"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	out := filepath.Join(t.TempDir(), "trace")

	m, c := s.mapConsumer()
	defer m.Close()
	r := s.run("lttd-xen", "--output", out)
	if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("pid %d holds the role", os.Getpid())) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("second consumer: exit %d, stderr %q; want one line naming pid %d", r.code, r.stderr, os.Getpid())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused consumer created %s (%v)", out, err)
	}
	if st := s.status(); st.ConsumerPID != os.Getpid() {
		t.Errorf("status consumer_pid %d, want %d", st.ConsumerPID, os.Getpid())
	}

	s.ctl("start")
	rng := rand.New(rand.NewPCG(3, 4))
	var scribbles int
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		consumed := (*atomic.Uint64)(unsafe.Pointer(&m.Data[8*(scribbles%2)]))
		v := consumed.Load()
		var bad uint64
		switch scribbles % 3 {
		case 0:
			bad = rng.Uint64() | 1 // not on a sub-buffer boundary
		case 1:
			bad = 1 << 62 // far beyond anything delivered
		case 2:
			bad = v + 4096*64 // releases packets never delivered
		}
		if consumed.CompareAndSwap(v, bad) {
			scribbles++
			time.Sleep(2 * time.Millisecond) // let the producer see it
			consumed.CompareAndSwap(bad, v)
		}
		time.Sleep(time.Millisecond)
	}
	st := s.status()
	if st.BadConsumed == 0 {
		t.Fatalf("%d scribbles, bad_consumed is 0", scribbles)
	}
	if st.State != "started" {
		t.Errorf("after the scribbles: state %s", st.State)
	}
	m.Close()
	c.Close() // the scribbler goes: its role with it
	lttd := s.startConsumer(out, "--resume")
	time.Sleep(300 * time.Millisecond)
	s.ctl("stop")
	st = s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d:\n%s", code, lttd.stderr)
	}
	t.Logf("%d scribbles, bad_consumed %d, lost %d", scribbles, st.BadConsumed, st.EventsLost)
	for file, pkts := range streamDir(t, out, 4096) {
		for i, p := range pkts {
			if p.SeqNum != uint64(i) {
				t.Fatalf("%s: packet %d has packet_seq_num %d", file, i, p.SeqNum)
			}
		}
	}
	events, _ := checkExact(t, out, st)
	checkOrder(t, events)
	s.checkTrace(out)
}

// helperEnv makes the test binary act as a one-request client (see init):
// it dials the socket, sends a status request and prints the reply's
// code, or the dial error.
const helperEnv = "LTTNG_XEN_TEST_CLIENT"

func init() {
	path := os.Getenv(helperEnv)
	if path == "" {
		return
	}
	c, err := wire.Dial(path, 2*time.Second)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(0)
	}
	// A server that refuses a peer says so first, unasked, and hangs up.
	var rep wire.Reply
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Recv(&rep, 0); err == nil {
		fmt.Println("code:", rep.Code)
		os.Exit(0)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	req := &wire.Request{Op: wire.OpStatus}
	if out := os.Getenv(helperOutputEnv); out != "" {
		req = &wire.Request{Op: wire.OpCreate, Create: &wire.CreateArgs{SubbufSize: 4096, NumSubbuf: 4, Mode: wire.ModeDiscard, Output: out}}
	}
	if err := c.Send(req); err != nil {
		fmt.Println("send:", err)
		os.Exit(0)
	}
	if _, err := c.Recv(&rep, 0); err != nil {
		fmt.Println("recv:", err)
		os.Exit(0)
	}
	if rep.OK {
		fmt.Println("ok")
	} else {
		fmt.Println("code:", rep.Code, rep.Error)
	}
	os.Exit(0)
}

// helperOutputEnv makes the helper client send a create with this output directory instead
// of a status request.
const helperOutputEnv = "LTTNG_XEN_TEST_CLIENT_OUTPUT"

// Both daemons check SO_PEERCRED: a client running as another uid is
// refused (code denied) unless the daemon was started with --allow-uid.
// Needs root (to run the client as uid 65534).
func TestSecurityOtherUID(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	const nobody = 65534
	// The client is this test binary, copied where nobody can run it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "lx-uid")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	client := filepath.Join(dir, "client")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(client, b, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	// The consumer dom0 starts for nobody's session runs as nobody: a copy of lttd-xen it
	// can run, and a directory it can write.
	lttd := filepath.Join(dir, "lttd-xen")
	if b, err := os.ReadFile(bin("lttd-xen")); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(lttd, b, 0o755); err != nil {
		t.Fatal(err)
	}
	traces := filepath.Join(dir, "traces")
	if err := os.Mkdir(traces, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(traces, 0o777)
	asNobody := func(path string, env ...string) string {
		cmd := exec.Command(client)
		cmd.Env = append([]string{helperEnv + "=" + path}, env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client as uid %d: %v\n%s", nobody, err, out)
		}
		return strings.TrimSpace(string(out))
	}

	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow=%v", allow), func(t *testing.T) {
			s := newSession(t)
			var hvArgs, d0Args []string
			if allow {
				hvArgs = []string{"--allow-uid", "65534"}
				d0Args = []string{"--allow-uid", "65534", "--lttd", lttd}
			}
			s.startDaemons(append([]string{"--cpus", "1"}, hvArgs...), d0Args...)
			// Without --allow-uid the run directory is 0700 and the sockets 0600: another uid
			// cannot even reach them. With it, the daemons open the modes (0711, 0666)
			// themselves, and only SO_PEERCRED decides.
			dirMode, sockMode := os.FileMode(0o700), os.FileMode(0o600)
			if allow {
				dirMode, sockMode = 0o711, 0o666
			}
			for _, name := range []string{"dom0.sock", "hypervisor.sock"} {
				fi, err := os.Stat(s.sockPath(name))
				if err != nil || fi.Mode().Perm() != sockMode {
					t.Errorf("%s mode %v (%v), want %v", name, fi.Mode(), err, sockMode)
				}
				if allow {
					continue
				}
				if got := asNobody(s.sockPath(name)); !strings.Contains(got, "permission denied") {
					t.Errorf("%s through the 0700 run dir as uid %d: %q, want permission denied", name, nobody, got)
				}
			}
			if fi, err := os.Stat(s.runDir); err != nil || fi.Mode().Perm() != dirMode {
				t.Errorf("run dir mode %v (%v), want %v", fi.Mode(), err, dirMode)
			}
			if !allow {
				// Open the file modes up: now only SO_PEERCRED stands in the way.
				os.Chmod(s.runDir, 0o711)
				os.Chmod(s.sockPath("dom0.sock"), 0o666)
				os.Chmod(s.sockPath("hypervisor.sock"), 0o666)
			}
			d0 := asNobody(s.sockPath("dom0.sock"))
			hv := asNobody(s.sockPath("hypervisor.sock"))
			if allow {
				// dom0 serves it; the hypervisor lets it in, but it has not bound VIRQ_TBUF.
				if d0 != "ok" || !strings.HasPrefix(hv, "code: not_bound") {
					t.Errorf("with --allow-uid: dom0 %q, hypervisor %q; want ok and code: not_bound", d0, hv)
				}
				// A session nobody creates gets a consumer running as nobody: the trace
				// directory is nobody's, not root's.
				out := filepath.Join(traces, "session")
				if got := asNobody(s.sockPath("dom0.sock"), helperOutputEnv+"="+out); got != "ok" {
					t.Fatalf("create --output as uid %d: %q", nobody, got)
				}
				var st syscall.Stat_t
				if err := syscall.Stat(filepath.Join(out, "metadata"), &st); err != nil || st.Uid != nobody {
					t.Errorf("the consumer's metadata file: owner %d (%v), want uid %d", st.Uid, err, nobody)
				}
			} else if !strings.HasPrefix(d0, "code: denied") || !strings.HasPrefix(hv, "code: denied") {
				t.Errorf("as uid %d: dom0 %q, hypervisor %q; want code: denied from both", nobody, d0, hv)
			}
		})
	}
}
