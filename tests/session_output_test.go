package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"github.com/lttng-xen/lttng-xen/wire"
)

// children returns the pids of pid's child processes (from /proc/*/stat).
func children(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// A whole session with the consumer dom0 starts: create --output, start, stop, destroy, then
// read the trace; twice in a row, as the README's session. destroy returns once the trace is
// complete on disk, prints the consumer's summary, and leaves no child of dom0 behind.
func TestSessionWithOutputTwice(t *testing.T) {
	testenv.Babeltrace(t)
	s := newSession(t)
	_, d0 := s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	for round := range 2 {
		out := filepath.Join(t.TempDir(), "trace")
		created := s.ctl("create", "demo", "--output", out, "--subbuf-size", "64KiB", "--num-subbuf", "8")
		if !strings.Contains(created, "Session demo created") || !strings.Contains(created, "Traces will be written in "+out) {
			t.Fatalf("round %d: create printed %q", round, created)
		}
		st := s.status()
		if st.Name != "demo" || st.Output != out || st.Readers != 1 {
			t.Fatalf("round %d: status after create: name %q output %q readers %d; want demo, %s, 1", round, st.Name, st.Output, st.Readers, out)
		}
		if kids := children(t, d0.cmd.Process.Pid); len(kids) != 1 {
			t.Fatalf("round %d: dom0 has %d children, want its consumer only: %v", round, len(kids), kids)
		}
		if r := s.run("lttctl-xen", "start"); r.code != 0 || r.stderr != "" {
			t.Fatalf("round %d: start: exit %d, stderr %q (no warning expected: the consumer is attached)", round, r.code, r.stderr)
		}
		if r := s.run("lttctl-xen", "start", "--duration", "1ms"); r.code != 1 || !strings.Contains(r.stderr, "already started") {
			t.Errorf("round %d: a second start: exit %d, stderr %q", round, r.code, r.stderr)
		}
		s.ctl("stop")
		written := s.status().EventsWritten
		destroyed := s.ctl("destroy")
		if !strings.Contains(destroyed, "written to "+out+"; 0 events lost") {
			t.Fatalf("round %d: destroy printed %q, want the consumer's summary", round, destroyed)
		}
		if kids := children(t, d0.cmd.Process.Pid); len(kids) != 0 {
			t.Errorf("round %d: dom0 still has children after destroy: %v", round, kids)
		}
		// No waiting: destroy returned after the consumer wrote everything.
		events, stderr, discarded := babeltrace(t, out)
		if stderr != "" || discarded != 0 || uint64(len(events)) != written {
			t.Errorf("round %d: babeltrace2 read %d events (discarded %d, stderr %q); the hypervisor wrote %d", round, len(events), discarded, stderr, written)
		}
		if r := s.run("lttv-xen", "stats", out); r.code != 0 {
			t.Errorf("round %d: lttv-xen stats: exit %d\n%s", round, r.code, r.stderr)
		}
	}
	if st := s.status(); st.State != wire.StateNone {
		t.Errorf("state after the last destroy: %s", st.State)
	}
}

// A consumer that cannot start fails create with its own error, and leaves no session.
func TestSessionOutputNotEmpty(t *testing.T) {
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1", "--rate", "1000"})
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "notes"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.run("lttctl-xen", "create", "--output", out)
	if r.code != 1 || r.stderr != "lttctl-xen: create: lttd-xen: "+out+": the output directory is not empty (give lttctl-xen create an empty or new --output directory)\n" {
		t.Errorf("create into a non-empty directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if st := s.status(); st.State != wire.StateNone {
		t.Errorf("state after the failed create: %s, want none", st.State)
	}
	s.ctl("create", "--output", filepath.Join(out, "fresh"))
	s.ctl("destroy")
}

// The default output directory is $HOME/lttng-traces/NAME (automatic name), and dom0's
// shutdown stops the consumer, which leaves a readable trace.
func TestSessionDefaultOutputAndDom0Shutdown(t *testing.T) {
	s := newSession(t)
	_, d0 := s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	r := s.run("lttctl-xen", "create") // not ctl: it adds --no-output
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
	}
	created := r.stdout
	const prefix = "Traces will be written in "
	i := strings.Index(created, prefix)
	if i < 0 {
		t.Fatalf("create printed %q", created)
	}
	out := strings.TrimSpace(created[i+len(prefix):])
	if dir := filepath.Join(s.runDir, "home", "lttng-traces"); filepath.Dir(out) != dir || !strings.HasPrefix(filepath.Base(out), "auto-") {
		t.Errorf("default output %s, want %s/auto-...", out, dir)
	}
	if got := s.status().Name; got != filepath.Base(out) {
		t.Errorf("session name %q, want %q", got, filepath.Base(out))
	}
	s.ctl("start")
	kids := children(t, d0.cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("dom0 children %v, want one consumer", kids)
	}
	s.terminate(d0)
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(kids[0]))); err == nil {
		t.Errorf("the consumer (pid %d) outlived dom0", kids[0])
	}
	if r := s.run("lttv-xen", "check", out); r.code != 0 {
		t.Errorf("lttv-xen check after dom0's shutdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
