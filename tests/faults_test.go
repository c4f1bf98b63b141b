package tests

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/wire"
)

// The fault tests: a process dies or the disk fills up in the middle of a
// trace. docs/RELIABILITY.md says what each one shows.

const faultSubbuf = 4 << 10

// faultSession starts the daemons, creates a trace of 4 x 4 KiB, starts
// lttd-xen and tracing.
func faultSession(t *testing.T, rate string, beforeStart ...func(lttd *daemon)) (s *session, hv, d0, lttd *daemon, out string) {
	s = newSession(t)
	hv, d0 = s.startDaemons([]string{"--cpus", "2", "--rate", rate})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	out = filepath.Join(t.TempDir(), "trace")
	lttd = s.startConsumer(out)
	for _, f := range beforeStart {
		f(lttd)
	}
	s.ctl("start")
	return s, hv, d0, lttd, out
}

var btDiscardedPackets = regexp.MustCompile(`discarded (\d+) (?:trace )?packets?\b`)

// lttd-xen killed with SIGKILL mid-trace; --resume keeps the whole packets
// on disk, drops a partial one, releases the packets it finds already
// written and writes the rest from the ring: every record the hypervisor
// wrote is in the trace, and the records it dropped while no consumer ran
// are reported by babeltrace2 as discarded events.
func TestFaultConsumerKilledResume(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s, _, _, lttd, out := faultSession(t, "5000")
	stream := filepath.Join(out, "channel0_0")
	eventually(t, 10*time.Second, "no packet on disk", func() bool {
		fi, err := os.Stat(stream)
		return err == nil && fi.Size() >= 2*faultSubbuf
	})
	s.kill(lttd)

	// A write cut short by the kill: half a packet, numbered after the
	// last whole one (the resumed consumer must drop it and write the
	// real packet from the ring).
	b, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:len(b)/faultSubbuf*faultSubbuf]
	last := b[len(b)-faultSubbuf:]
	partial := append([]byte(nil), last[:faultSubbuf/2]...)
	seq := binary.LittleEndian.Uint64(last[record.OffPacketSeqNum:])
	binary.LittleEndian.PutUint64(partial[record.OffPacketSeqNum:], seq+1)
	if err := os.WriteFile(stream, append(b, partial...), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := len(b) / faultSubbuf
	// The other pCPU's stream: its whole packets are kept too (a partial
	// one, if the kill cut a write short, is cut off).
	if fi, err := os.Stat(filepath.Join(out, "channel0_1")); err == nil {
		kept += int(fi.Size()) / faultSubbuf
	}

	// The dead consumer's last word in the consumer region is garbage:
	// the resumed one must go by the offset the hypervisor accepted.
	cons, c := s.mapConsumer()
	binary.LittleEndian.PutUint64(cons.Data[0:], 0xdeadbeef)
	cons.Close()
	c.Close()

	time.Sleep(200 * time.Millisecond) // the producer fills the ring and drops records
	lttd2 := s.startConsumer(out, "--resume")
	if e := lttd2.stderr.String(); !strings.Contains(e, "cutting the stream file") || !strings.Contains(e, "using the hypervisor's") {
		t.Errorf("the resumed consumer did not report the partial packet and the bad consumed offset:\n%s", e)
	}
	time.Sleep(300 * time.Millisecond)
	s.ctl("stop")
	st := s.status()
	s.ctl("destroy")
	if code := s.wait(lttd2, 30*time.Second); code != 0 {
		t.Fatalf("resumed lttd-xen exit %d:\n%s", code, lttd2.stderr)
	}
	summary := lttd2.stdout.String()
	if !strings.Contains(summary, strconv.Itoa(kept)+" packets kept from before --resume") || strings.Contains(summary, "missing") {
		t.Errorf("summary %q: want %d packets kept and none missing", summary, kept)
	}
	var onDisk int
	for name, pkts := range streamDir(t, out, faultSubbuf) {
		for i, p := range pkts {
			if p.SeqNum != uint64(i) {
				t.Fatalf("%s: packet %d has packet_seq_num %d: the resumed stream has a gap or a duplicate", name, i, p.SeqNum)
			}
		}
		onDisk += len(pkts)
	}
	if uint64(onDisk) != st.PacketsDelivered {
		t.Errorf("%d packets on disk, %d delivered", onDisk, st.PacketsDelivered)
	}
	// The half packet cut off by --resume is kept beside the stream.
	torn, err := os.ReadFile(filepath.Join(out, ".channel0_0.torn-"+strconv.Itoa(len(b))))
	if err != nil || string(torn) != string(partial) {
		t.Errorf("the cut bytes were not kept aside whole: %v (%d bytes)", err, len(torn))
	}
	if st.LostFull == 0 {
		t.Errorf("no record was dropped while no consumer ran (rate too low for the test?)")
	}
	events, stderr := checkExact(t, out, st)
	if btDiscardedPackets.MatchString(stderr) {
		t.Errorf("babeltrace2 reports discarded packets:\n%s", firstLines(stderr, 5))
	}
	checkOrder(t, events)
	s.checkTrace(out)
}

// Packets that were consumed but are not on disk when lttd-xen resumes (a
// machine crash lost the file's tail) cannot be recovered: the resumed
// trace shows the packet_seq_num gap, babeltrace2 reports it as discarded
// packets, and lttd-xen counts them in its summary. Never silently.
func TestFaultResumeGapIsReported(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s, _, _, lttd, out := faultSession(t, "5000")
	stream := filepath.Join(out, "channel0_0")
	eventually(t, 10*time.Second, "not enough packets on disk", func() bool {
		fi, err := os.Stat(stream)
		return err == nil && fi.Size() >= 4*faultSubbuf
	})
	s.kill(lttd)
	fi, err := os.Stat(stream)
	if err != nil {
		t.Fatal(err)
	}
	whole := fi.Size() / faultSubbuf
	// Lose the last two whole packets and half of the one before.
	cut := (whole-3)*faultSubbuf + faultSubbuf/2
	if err := os.Truncate(stream, cut); err != nil {
		t.Fatal(err)
	}
	lttd2 := s.startConsumer(out, "--resume")
	time.Sleep(200 * time.Millisecond)
	s.ctl("stop")
	s.ctl("destroy")
	if code := s.wait(lttd2, 30*time.Second); code != 0 {
		t.Fatalf("resumed lttd-xen exit %d:\n%s", code, lttd2.stderr)
	}
	if !strings.Contains(lttd2.stdout.String(), "3 packets missing") {
		t.Errorf("summary %q: want 3 packets missing", lttd2.stdout.String())
	}
	if !strings.Contains(lttd2.stderr.String(), "are not on disk") {
		t.Errorf("no warning about the lost packets:\n%s", lttd2.stderr)
	}
	_, stderr, _ := babeltrace(t, out)
	m := btDiscardedPackets.FindStringSubmatch(stderr)
	if m == nil || m[1] != "3" {
		t.Errorf("babeltrace2 does not report the 3 lost packets:\n%s", firstLines(stderr, 8))
	}
	s.checkTrace(out)
}

// dom0 killed with SIGKILL and restarted: the new dom0 binds VIRQ_TBUF
// again, lttd-xen (which kept its mapping) re-attaches to it, registers as
// a reader again and the trace goes on to a clean end.
func TestFaultDom0Restart(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s, _, d0, lttd, out := faultSession(t, "5000")
	time.Sleep(300 * time.Millisecond)
	s.kill(d0)
	time.Sleep(300 * time.Millisecond)
	if code := exitCode(lttd); code >= 0 {
		t.Fatalf("lttd-xen exited %d when dom0 died:\n%s", code, lttd.stderr)
	}
	s.start("dom0", "bound VIRQ_TBUF")
	waitStderr(t, lttd, "re-attached to dom0", 1, 20*time.Second)
	st := s.status()
	if st.Readers != 1 || st.Refcount != 2 || st.State != "started" {
		t.Errorf("after dom0's restart: readers %d refcount %d state %s; want 1, 2, started", st.Readers, st.Refcount, st.State)
	}
	time.Sleep(300 * time.Millisecond)
	s.ctl("stop")
	st = s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d:\n%s", code, lttd.stderr)
	}
	if !strings.Contains(lttd.stdout.String(), "re-attached to dom0 1 times") {
		t.Errorf("summary %q", lttd.stdout.String())
	}
	var onDisk int
	for _, pkts := range streamDir(t, out, faultSubbuf) {
		onDisk += len(pkts)
	}
	if uint64(onDisk) != st.PacketsDelivered {
		t.Errorf("%d packets on disk, %d delivered", onDisk, st.PacketsDelivered)
	}
	checkExact(t, out, st)
	s.checkTrace(out)
}

// exitCode is d's exit code, or -1 while it runs.
func exitCode(d *daemon) int {
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// The hypervisor killed with SIGKILL: dom0 closes the reader's
// connection, lttd-xen finds dom0 serving no trace, writes what it holds
// and exits 3 with the trace marked incomplete. The trace on disk ends at
// its last whole packet and passes lttv-xen check; babeltrace2 reads it.
func TestFaultHypervisorKilled(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s, hv, _, lttd, out := faultSession(t, "5000")
	time.Sleep(500 * time.Millisecond)
	s.kill(hv)
	if code := s.wait(lttd, 20*time.Second); code != 3 {
		t.Fatalf("lttd-xen exit %d after the hypervisor died, want 3:\n%s", code, lttd.stderr)
	}
	if sum := lttd.stdout.String(); !strings.Contains(sum, "trace incomplete") || summaryPackets(t, sum) == 0 {
		t.Errorf("summary %q: want packets and 'trace incomplete'", sum)
	}
	if !strings.Contains(lttd.stderr.String(), "trace incomplete") {
		t.Errorf("stderr does not say the trace is incomplete:\n%s", lttd.stderr)
	}
	streamPackets(t, filepath.Join(out, "channel0_0"), faultSubbuf)
	s.checkTrace(out)
	if events, stderr, _ := babeltrace(t, out); len(events) == 0 {
		t.Errorf("babeltrace2 read no event:\n%s", stderr)
	}
	// dom0 stays up and says the hypervisor is gone.
	if r := s.run("lttctl-xen", "status"); r.code == 0 || !strings.Contains(r.stderr, "unavailable") && !strings.Contains(r.stderr, "not connected") {
		t.Errorf("lttctl-xen status with the hypervisor gone: exit %d %q", r.code, r.stderr)
	}
}

// The disk fills up (RLIMIT_FSIZE on lttd-xen, SIGXFSZ ignored by the Go
// runtime, so writes fail with EFBIG): lttd-xen stops with a clear error,
// the stream file that hit the limit ends at a packet boundary, and the hypervisor counts the
// records it can no longer write as lost once the ring is full.
func TestFaultDiskFull(t *testing.T) {
	t.Parallel()
	// Room for 5 packets and a half: the sixth is cut short.
	const limit = 5*faultSubbuf + faultSubbuf/2
	s, _, _, lttd, out := faultSession(t, "5000", func(lttd *daemon) {
		setFileSizeLimit(t, lttd.cmd.Process.Pid, limit)
	})
	if code := s.wait(lttd, 20*time.Second); code != 1 {
		t.Fatalf("lttd-xen exit %d on a full disk, want 1:\n%s", code, lttd.stderr)
	}
	if e := lttd.stderr.String(); !strings.Contains(e, "no room left for the trace") || !strings.Contains(e, "file too large") {
		t.Errorf("lttd-xen's error does not say the disk is full:\n%s", e)
	}
	// The limit is per file: the stream that reached it holds the 5
	// packets that fit, the other at most as many.
	sum := lttd.stdout.String()
	total, full := 0, 0
	for name, pkts := range streamDir(t, out, faultSubbuf) {
		if len(pkts) > 5 {
			t.Errorf("%s holds %d packets, more than fit", name, len(pkts))
		}
		if len(pkts) == 5 {
			full++
		}
		total += len(pkts)
	}
	if full == 0 || summaryPackets(t, sum) != uint64(total) || !strings.Contains(sum, "no room left on disk") {
		t.Errorf("summary %q: want %d packets (one stream of 5) and 'no room left on disk'", sum, total)
	}
	s.checkTrace(out)
	// No consumer: the ring fills up and every record after that is lost,
	// and counted.
	lost := s.status().LostFull
	eventually(t, 10*time.Second, "the hypervisor does not count lost records", func() bool {
		return s.status().LostFull > lost && s.status().Refcount == 1
	})
	s.ctl("stop")
	s.ctl("destroy")
}

// setFileSizeLimit caps the size of any file process pid writes.
func setFileSizeLimit(t *testing.T, pid int, limit uint64) {
	t.Helper()
	rl := unix.Rlimit{Cur: limit, Max: limit}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &rl, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
}

// SIGTERM to each process in each state of the trace (none, created,
// started, stopped): each exits 0 and leaves nothing behind. lttd-xen
// drops its mapping (the refcount falls back to the hypervisor's own),
// dom0 and the hypervisor remove their sockets.
func TestFaultSIGTERMEachState(t *testing.T) {
	t.Parallel()
	for _, state := range []string{"none", "created", "started", "stopped"} {
		t.Run(state, func(t *testing.T) {
			t.Parallel()
			s := newSession(t)
			hv, d0 := s.startDaemons([]string{"--cpus", "2", "--rate", "5000"})
			var lttd *daemon
			if state != "none" {
				s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
				lttd = s.startConsumer(filepath.Join(t.TempDir(), "trace"))
			}
			if state == "started" || state == "stopped" {
				s.ctl("start")
				time.Sleep(100 * time.Millisecond)
			}
			if state == "stopped" {
				s.ctl("stop")
			}
			if lttd != nil {
				if code := s.signal(lttd, unix.SIGTERM, 20*time.Second); code != 0 {
					t.Errorf("lttd-xen exit %d on SIGTERM in state %s:\n%s", code, state, lttd.stderr)
				}
				if st := s.status(); st.Refcount != 1 || st.Readers != 0 || string(st.State) != state {
					t.Errorf("after lttd-xen's SIGTERM: refcount %d readers %d state %s", st.Refcount, st.Readers, st.State)
				}
			}
			if code := s.signal(d0, unix.SIGTERM, 20*time.Second); code != 0 {
				t.Errorf("dom0 exit %d on SIGTERM in state %s:\n%s", code, state, d0.stderr)
			}
			if code := s.signal(hv, unix.SIGTERM, 20*time.Second); code != 0 {
				t.Errorf("hypervisor exit %d on SIGTERM in state %s:\n%s", code, state, hv.stderr)
			}
			if ents, _ := os.ReadDir(s.runDir); len(ents) != 0 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("left in the run directory: %v", names)
			}
		})
	}
}

var debugCounters = regexp.MustCompile(`msg="debug counters" cmd=\S+ goroutines=(\d+) fds=(\d+)`)

// daemonCounters asks a daemon (dom0 or the hypervisor) for its debug
// counters (SIGUSR1) and returns the goroutine and descriptor counts.
func daemonCounters(t *testing.T, d *daemon) (goroutines, fds int) {
	t.Helper()
	n := strings.Count(d.stderr.String(), "debug counters")
	if err := d.cmd.Process.Signal(unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitStderr(t, d, "debug counters", n+1, 5*time.Second)
	all := debugCounters.FindAllStringSubmatch(d.stderr.String(), -1)
	if len(all) == 0 {
		t.Fatalf("cannot parse %s's debug counters:\n%s", d.name, d.stderr)
	}
	m := all[len(all)-1]
	goroutines, _ = strconv.Atoi(m[1])
	fds, _ = strconv.Atoi(m[2])
	return goroutines, fds
}

// 200 trace cycles (create, map, poll, start, stop, unmap, destroy, each
// on a new tools connection) leak no descriptor and no goroutine in either
// daemon.
func TestFaultCyclesLeakNothing(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	hv, d0 := s.startDaemons([]string{"--cpus", "2", "--rate", "5000"})
	cycle := func() {
		c, err := wire.Dial(s.sockPath("dom0.sock"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		call := func(req *wire.Request) (*wire.Reply, []*os.File) {
			t.Helper()
			rep, files, err := c.Call(req)
			if err != nil {
				t.Fatalf("%s: %v", req.Op, err)
			}
			return rep, files
		}
		call(&wire.Request{Op: wire.OpCreate, Create: &wire.CreateArgs{SubbufSize: 4096, NumSubbuf: 4, Mode: wire.ModeDiscard}})
		rep, files := call(&wire.Request{Op: wire.OpMap})
		for _, f := range files {
			f.Close()
		}
		_, wake := call(&wire.Request{Op: wire.OpPoll})
		wake[0].Close()
		call(&wire.Request{Op: wire.OpStart})
		call(&wire.Request{Op: wire.OpStop})
		call(&wire.Request{Op: wire.OpUnmap, Unmap: &wire.UnmapArgs{MapID: rep.MapID}})
		call(&wire.Request{Op: wire.OpDestroy})
	}
	cycle() // warm up: lazily created runtime state is not a leak
	idle := func() bool { st := s.status(); return st.Readers == 0 && st.State == "none" }
	eventually(t, 5*time.Second, "dom0 still holds a reader", idle)
	hg0, hf0 := daemonCounters(t, hv)
	g0, f0 := daemonCounters(t, d0)
	for range 200 {
		cycle()
	}
	eventually(t, 5*time.Second, "dom0 still holds a reader", idle)
	var g1, f1 int
	eventually(t, 5*time.Second, "dom0's counters do not come back", func() bool {
		g1, f1 = daemonCounters(t, d0)
		return g1 <= g0 && f1 <= f0
	})
	var hg1, hf1 int
	eventually(t, 5*time.Second, "the hypervisor's counters do not come back", func() bool {
		hg1, hf1 = daemonCounters(t, hv)
		return hg1 <= hg0 && hf1 <= hf0
	})
	t.Logf("dom0: goroutines %d → %d, fds %d → %d; hypervisor: goroutines %d → %d, fds %d → %d", g0, g1, f0, f1, hg0, hg1, hf0, hf1)
}
