package tests

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Helpers of the fault, hostile-client and security tests.

// kill sends SIGKILL to d and waits for it to die.
func (s *session) kill(d *daemon) {
	s.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill %s: %v", d.name, err)
	}
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("%s survived SIGKILL", d.name)
	}
}

// signal sends sig to d and returns its exit code once it has exited.
func (s *session) signal(d *daemon, sig os.Signal, timeout time.Duration) int {
	s.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %s: %v", d.name, err)
	}
	return s.wait(d, timeout)
}

// sockPath is the path of a socket in the session's run directory.
func (s *session) sockPath(name string) string { return filepath.Join(s.runDir, name) }

// dial connects to a socket of the session with the wire protocol.
func (s *session) dial(name string) *wire.Conn {
	s.t.Helper()
	c, err := wire.Dial(s.sockPath(name), 5*time.Second)
	if err != nil {
		s.t.Fatalf("dial %s: %v", name, err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// mapConsumer maps the trace through dom0 in the consumer role, as
// lttd-xen does, on a connection of its own (which holds the mapping's
// reference and the role until it is closed), and returns its read-write
// mapping of the consumer region (the consumed offsets, one u64 per pCPU).
// The role may still be held for a moment by a consumer that was just
// killed (dom0 has not seen its connection close yet): it retries on busy.
func (s *session) mapConsumer() (*shm.Mapping, *wire.Conn) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := s.dial("dom0.sock")
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, files, err := c.Call(&wire.Request{Op: wire.OpMap, Map: &wire.MapArgs{Role: wire.RoleConsumer}})
		if errors.Is(err, wire.ErrBusy) && time.Now().Before(deadline) {
			c.Close()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			s.t.Fatal(err)
		}
		files[0].Close()
		files[2].Close()
		m, err := shm.MapConsumer(files[1])
		if err != nil {
			s.t.Fatal(err)
		}
		return m, c
	}
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStderr waits until d's stderr holds n lines containing mark.
func waitStderr(t *testing.T, d *daemon, mark string, n int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, d.name+" never logged "+strconv.Quote(mark)+":\n"+d.stderr.String(), func() bool {
		return strings.Count(d.stderr.String(), mark) >= n
	})
}

// fdCount is the number of open descriptors of process pid.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// streamPackets reads the packet headers of a stream file (which must
// hold whole packets of sbSize bytes).
func streamPackets(t *testing.T, path string, sbSize int) []record.PacketInfo {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%sbSize != 0 {
		t.Fatalf("%s is %d bytes, not a whole number of %d-byte packets", path, len(b), sbSize)
	}
	var out []record.PacketInfo
	for off := 0; off < len(b); off += sbSize {
		p, err := record.ParsePacketHeader(b[off:])
		if err != nil {
			t.Fatalf("%s: packet at %d: %v", path, off, err)
		}
		out = append(out, p)
	}
	return out
}

// streamDir reads the packet headers of every stream file (channel0_N)
// in dir, by file name.
func streamDir(t *testing.T, dir string, sbSize int) map[string][]record.PacketInfo {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "channel0_*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]record.PacketInfo{}
	for _, name := range names {
		if strings.Contains(filepath.Base(name), ".") {
			continue // a torn tail kept aside by --resume
		}
		out[filepath.Base(name)] = streamPackets(t, name, sbSize)
	}
	return out
}

var summaryRE = regexp.MustCompile(`lttd-xen: (\d+) packets, .* written to .*; (\d+) events lost`)

// summaryPackets parses the packet count of lttd-xen's summary line.
func summaryPackets(t *testing.T, out string) uint64 {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no lttd-xen summary in %q", out)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// checkTrace runs lttv-xen check on dir and fails the test unless it passes.
func (s *session) checkTrace(dir string) {
	s.t.Helper()
	if r := s.run("lttv-xen", "check", dir); r.code != 0 {
		s.t.Errorf("lttv-xen check %s: exit %d\n%s%s", dir, r.code, r.stdout, r.stderr)
	}
}
