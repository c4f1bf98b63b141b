package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuTicks is a process's utime+stime in clock ticks (/proc/PID/stat).
func cpuTicks(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return ut + st
}

// An idle consumer and an idle dom0 sleep in poll(2)/the runtime poller:
// no timer wakes them, so they use no CPU while nothing is delivered.
func TestIdleUsesNoCPU(t *testing.T) {
	s := newSession(t)
	_, d0 := s.startDaemons([]string{"--cpus", "2"})
	s.ctl("create")
	lttd := s.startConsumer(filepath.Join(t.TempDir(), "trace"))
	time.Sleep(300 * time.Millisecond) // let start-up settle
	before := map[string]uint64{"lttd-xen": cpuTicks(t, lttd.cmd.Process.Pid), "dom0": cpuTicks(t, d0.cmd.Process.Pid)}
	time.Sleep(2 * time.Second)
	after := map[string]uint64{"lttd-xen": cpuTicks(t, lttd.cmd.Process.Pid), "dom0": cpuTicks(t, d0.cmd.Process.Pid)}
	for name := range before {
		// One tick (10 ms) of slack for the Go runtime's own housekeeping.
		if d := after[name] - before[name]; d > 1 {
			t.Errorf("%s used %d ticks of CPU in 2 s while idle: something polls", name, d)
		}
	}
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Errorf("lttd-xen exit %d", code)
	}
}

// Destroy while every pCPU writes flat out: it finishes, the consumer
// exits 0, and every packet on disk is whole. The refcount goes 1 → 2 as
// the consumer maps and back as each side lets go.
func TestDestroyUnderLoad(t *testing.T) {
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "4", "--rate", "0"})
	s.ctl("create", "--subbuf-size", "64KiB", "--num-subbuf", "4")
	if rc := s.status().Refcount; rc != 1 {
		t.Errorf("refcount after create = %d, want 1", rc)
	}
	out := filepath.Join(t.TempDir(), "trace")
	lttd := s.startConsumer(out)
	if rc := s.status().Refcount; rc != 2 {
		t.Errorf("refcount with the consumer mapped = %d, want 2", rc)
	}
	s.ctl("start")
	time.Sleep(300 * time.Millisecond)
	s.ctl("destroy")
	if code := s.wait(lttd, 60*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d:\n%s", code, lttd.stderr)
	}
	if st := s.status(); st.State != "none" {
		t.Errorf("state after destroy = %q", st.State)
	}
	if r := s.run("lttv-xen", "check", out); r.code != 0 {
		t.Errorf("lttv-xen check after destroy under load: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A new trace can be created once the old one is gone.
	s.ctl("create")
	if rc := s.status().Refcount; rc != 1 {
		t.Errorf("refcount of a fresh trace = %d, want 1", rc)
	}
}

// Every request in the wrong state fails with a non-zero exit and a
// message that says what to do.
func TestWrongStates(t *testing.T) {
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1", "--rate", "1000"})
	expect := func(want string, args ...string) {
		t.Helper()
		r := s.run("lttctl-xen", args...)
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("lttctl-xen %s: exit %d, stderr %q; want non-zero and %q", strings.Join(args, " "), r.code, r.stderr, want)
		}
	}
	expect("create one first", "start")
	expect("create one first", "stop")
	expect("create one first", "destroy")
	r := s.run("lttd-xen", "--output", filepath.Join(t.TempDir(), "t"))
	if r.code == 0 || !strings.Contains(r.stderr, "create one first") {
		t.Errorf("lttd-xen with no trace: exit %d, %q", r.code, r.stderr)
	}
	s.ctl("create")
	expect("destroy it first", "create")
	expect("not started", "stop")
	s.ctl("start")
	expect("already started", "start")
	s.ctl("stop")
	s.ctl("destroy")
	expect("create one first", "destroy")
	expect("--subbuf-size", "create", "--subbuf-size", "3000")
	expect("--num-subbuf", "create", "--num-subbuf", "3")
}

// lttd-xen refuses to write into a directory that already holds files.
func TestConsumerRefusesNonEmptyOutput(t *testing.T) {
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1"})
	s.ctl("create")
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "precious"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.run("lttd-xen", "--output", out)
	if r.code == 0 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("lttd-xen into a non-empty dir: exit %d, %q", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "precious")); err != nil || string(b) != "keep me" {
		t.Errorf("the existing file was touched: %q %v", b, err)
	}
	if rc := s.status().Refcount; rc != 1 {
		t.Errorf("a refused consumer left a mapping: refcount %d", rc)
	}
}
