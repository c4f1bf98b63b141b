package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"github.com/lttng-xen/lttng-xen/record"
)

// The flight recorder: an overwrite-mode trace with no consumer, read by
// snapshots while it runs, after stop, and after the hypervisor is killed.

// btWarning is the only kind of line babeltrace2 may print on stderr for a
// snapshot: packets overwritten between two kept packets are discarded
// packets, and records the writers really dropped are discarded events (a
// first packet carrying earlier losses "may have" discarded them);
// anything else (an error) fails the test.
var btWarning = regexp.MustCompile(`^WARNING: Tracer (?:discarded \d+ (?:(?:trace )?packets?|events?)|may have discarded (?:events|packets)) `)

// readSnapshot reads a snapshot with babeltrace2 and with the record
// decoder and returns the events babeltrace2 printed and the wall-clock
// time of the newest record.
func readSnapshot(t *testing.T, dir string) (events []btEvent, newest time.Time) {
	t.Helper()
	events, stderr, _ := babeltrace(t, dir)
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line != "" && !btWarning.MatchString(line) {
			t.Errorf("babeltrace2 %s: unexpected stderr line:\n%s", dir, line)
		}
	}
	if len(events) == 0 {
		t.Fatalf("babeltrace2 read no event from %s", dir)
	}
	tr, err := record.OpenTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for rec, err := range tr.Records() {
		if err != nil {
			t.Fatalf("decode %s: %v", dir, err)
		}
		last = max(last, rec.Timestamp)
	}
	return events, tr.Info.Wall(last)
}

// snapshotTo runs lttctl-xen snapshot --output dir and checks its report.
func (s *session) snapshotTo(dir, kind string, args ...string) string {
	s.t.Helper()
	out := s.ctl(append([]string{"snapshot", "--output", dir}, args...)...)
	if !strings.HasPrefix(out, kind+" written to "+dir+": ") {
		s.t.Fatalf("snapshot printed %q, want %q", out, kind+" written to "+dir)
	}
	return out
}

// overwrittenEverywhere reports whether every pCPU's ring has wrapped.
func (s *session) overwrittenEverywhere() bool {
	st := s.status()
	for _, c := range st.PerCPU {
		if c.Online && c.Overwritten == 0 {
			return false
		}
	}
	return len(st.PerCPU) > 0
}

// TestFlightRecorderSnapshots: an overwrite trace written at a high rate
// for much longer than its 16 KiB per pCPU hold, no consumer; two
// snapshots while it runs each read by babeltrace2 with no error, their
// newest events less than 1 s older than the snapshot; the second newer
// than the first; one after stop; the bad cases refused in one line.
func TestFlightRecorderSnapshots(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	if out := s.ctl("create", "--overwrite", "--subbuf-size", "4KiB", "--num-subbuf", "4"); !strings.Contains(out, "mode overwrite") {
		t.Fatalf("create --overwrite printed %q", out)
	}
	s.ctl("start")
	eventually(t, 30*time.Second, "every ring overwritten", s.overwrittenEverywhere)
	if st := s.status(); st.Mode != "overwrite" || st.LostFull != 0 {
		t.Errorf("status: mode %q, lost_full %d; want overwrite, 0 (writers reclaim instead of dropping)", st.Mode, st.LostFull)
	}

	base := t.TempDir()
	var prev time.Time
	for i, name := range []string{"snap1", "snap2"} {
		dir := filepath.Join(base, name)
		before := time.Now()
		s.snapshotTo(dir, "snapshot")
		events, newest := readSnapshot(t, dir)
		checkOrder(t, events)
		if newest.Before(before.Add(-time.Second)) {
			t.Errorf("snapshot %d: newest event at %v, more than 1 s before the snapshot (%v)", i+1, newest, before)
		}
		if !newest.After(prev) {
			t.Errorf("snapshot %d: newest event %v is not newer than the previous snapshot's %v", i+1, newest, prev)
		}
		prev = newest
		cpus := map[int]bool{}
		for _, e := range events {
			cpus[e.cpu] = true
		}
		if !cpus[0] || !cpus[1] {
			t.Errorf("snapshot %d holds events of pCPUs %v, want 0 and 1", i+1, cpus)
		}
		s.checkTrace(dir)
	}

	// --max-size keeps the newest packets that fit.
	small := filepath.Join(base, "small")
	s.snapshotTo(small, "snapshot", "--max-size", "16KiB")
	var total int64
	filepath.Walk(small, func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && !fi.IsDir() {
			total += fi.Size()
		}
		return nil
	})
	if total > 16<<10 {
		t.Errorf("--max-size 16KiB wrote %d bytes", total)
	}
	if _, newest := readSnapshot(t, small); newest.Before(prev) {
		t.Errorf("--max-size snapshot's newest event %v is older than the previous snapshot's %v", newest, prev)
	}

	// Bad input: one line each, nothing left behind.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--output", filepath.Join(base, "snap1")}, "not empty"},
		{[]string{"--output", filepath.Join(base, "snap1", "metadata", "x")}, "not a directory"},
		{[]string{"--output", filepath.Join(base, "new"), "--max-size", "4KiB"}, "--max-size is too small"},
		{[]string{"--max-size", "lots"}, "--max-size"},
	} {
		r := s.run("lttctl-xen", append([]string{"snapshot"}, tc.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("snapshot %v: exit %d, stderr %q; want a one-line error with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "new")); !os.IsNotExist(err) {
		t.Errorf("a refused snapshot left %s behind (%v)", filepath.Join(base, "new"), err)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 3 {
		t.Errorf("%d entries in %s after the refused snapshots, want snap1, snap2, small (no temporary left)", len(ents), base)
	}
	s.snapshotTo(filepath.Join(base, "snap1"), "snapshot", "--force")
	readSnapshot(t, filepath.Join(base, "snap1"))

	// After stop: the final flush delivered every ring's last packet.
	s.ctl("stop")
	stopped := filepath.Join(base, "stopped")
	s.snapshotTo(stopped, "snapshot")
	readSnapshot(t, stopped)
	s.checkTrace(stopped)

	// Without --output: a new directory in the current one, named after
	// the trace and the time, printed.
	cwd := t.TempDir()
	cmd := exec.Command(bin("lttctl-xen"), "snapshot")
	cmd.Env, cmd.Dir = s.env(), cwd
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snapshot without --output: %v", err)
	}
	m := regexp.MustCompile(`^snapshot written to (snapshot-[0-9a-f]{8}-\d{8}-\d{6}): `).FindSubmatch(out)
	if m == nil {
		t.Fatalf("snapshot without --output printed %q", out)
	}
	if !strings.HasPrefix(s.status().UUID, string(m[1])[len("snapshot-"):len("snapshot-")+8]) {
		t.Errorf("default directory %s is not named after trace %s", m[1], s.status().UUID)
	}
	readSnapshot(t, filepath.Join(cwd, string(m[1])))

	s.ctl("destroy")
	if r := s.run("lttctl-xen", "snapshot", "--output", filepath.Join(base, "none")); r.code != 1 || !strings.Contains(r.stderr, "no trace") {
		t.Errorf("snapshot with no trace: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestFlightDiscardModeSnapshot: a discard-mode trace with no consumer
// fills up; a snapshot holds what is delivered and not consumed.
func TestFlightDiscardModeSnapshot(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	s.ctl("start")
	eventually(t, 30*time.Second, "the ring full", func() bool { return s.status().LostFull > 0 })
	dir := filepath.Join(t.TempDir(), "snap")
	s.snapshotTo(dir, "snapshot")
	events, _ := readSnapshot(t, dir)
	checkOrder(t, events)
	s.checkTrace(dir)
	if st := s.status(); st.PacketsConsumed != 0 {
		t.Errorf("the snapshot consumed %d packets", st.PacketsConsumed)
	}
}

// TestFlightPostMortem: the hypervisor is killed with SIGKILL while an
// overwrite trace runs. dom0 keeps the trace's memory; status says so; a
// snapshot is written from it, open packets completed up to their last
// committed record, read by babeltrace2 and lttv-xen check; destroy
// releases it.
func TestFlightPostMortem(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	hv, _ := s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	s.ctl("create", "--overwrite", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	s.ctl("start")
	eventually(t, 30*time.Second, "every ring overwritten", s.overwrittenEverywhere)
	killed := time.Now()
	s.kill(hv)

	eventually(t, 10*time.Second, "status to say the hypervisor is gone", func() bool {
		r := s.run("lttctl-xen", "status")
		return r.code != 0 && strings.Contains(r.stderr, "post-mortem snapshot")
	})
	dir := filepath.Join(t.TempDir(), "crash")
	t.Log(s.snapshotTo(dir, "post-mortem snapshot"))
	events, newest := readSnapshot(t, dir)
	checkOrder(t, events)
	s.checkTrace(dir)
	if newest.Before(killed.Add(-time.Second)) {
		t.Errorf("post-mortem snapshot's newest event %v is more than 1 s before the kill (%v)", newest, killed)
	}
	// A second snapshot of the same memory holds the same events.
	again := filepath.Join(t.TempDir(), "again")
	s.snapshotTo(again, "post-mortem snapshot")
	if ev2, _ := readSnapshot(t, again); len(ev2) != len(events) {
		t.Errorf("second post-mortem snapshot: %d events, the first had %d", len(ev2), len(events))
	}

	if out := s.ctl("destroy"); !strings.Contains(out, "destroyed") {
		t.Errorf("destroy printed %q", out)
	}
	r := s.run("lttctl-xen", "status")
	if r.code == 0 || strings.Contains(r.stderr, "post-mortem") {
		t.Errorf("status after destroy released the post-mortem trace: exit %d, %q", r.code, r.stderr)
	}
	if r := s.run("lttctl-xen", "snapshot", "--output", filepath.Join(t.TempDir(), "gone")); r.code != 1 {
		t.Errorf("snapshot after the post-mortem trace was released: exit %d, %q", r.code, r.stderr)
	}
}

// TestFlightCleanShutdownReleases: a hypervisor shut down cleanly destroys
// its trace on the way out; dom0 does not keep that trace's memory as a
// post-mortem trace.
func TestFlightCleanShutdownReleases(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	hv, _ := s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	s.ctl("create", "--overwrite", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	s.ctl("start")
	if code := s.signal(hv, syscall.SIGTERM, 20*time.Second); code != 0 {
		t.Fatalf("hypervisor exit %d on SIGTERM", code)
	}
	eventually(t, 10*time.Second, "dom0 to notice the hypervisor is gone", func() bool {
		return s.run("lttctl-xen", "status").code != 0
	})
	if r := s.run("lttctl-xen", "status"); strings.Contains(r.stderr, "post-mortem") {
		t.Errorf("status after a clean shutdown offers a post-mortem snapshot: %q", r.stderr)
	}
	if r := s.run("lttctl-xen", "snapshot", "--output", filepath.Join(t.TempDir(), "x")); r.code != 1 || !strings.Contains(r.stderr, "not connected") {
		t.Errorf("snapshot after a clean shutdown: exit %d, %q", r.code, r.stderr)
	}
}

// TestFlightSnapshotWhileDestroying: a snapshot racing destroy either
// copies the trace (its mapping keeps the memory) or is told there is no
// trace, in one line; never a partial directory.
func TestFlightSnapshotWhileDestroying(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	base := t.TempDir()
	for i := range 5 {
		s.ctl("create", "--overwrite", "--subbuf-size", "4KiB", "--num-subbuf", "4")
		s.ctl("start")
		eventually(t, 30*time.Second, "every ring overwritten", s.overwrittenEverywhere)
		dir := filepath.Join(base, fmt.Sprint(i))
		snap := exec.Command(bin("lttctl-xen"), "snapshot", "--output", dir)
		snap.Env = s.env()
		var errb strings.Builder
		snap.Stderr = &errb
		if err := snap.Start(); err != nil {
			t.Fatal(err)
		}
		s.ctl("destroy")
		err := snap.Wait()
		switch {
		case err == nil:
			readSnapshot(t, dir)
		case strings.Contains(errb.String(), "no trace") && strings.Count(strings.TrimSpace(errb.String()), "\n") == 0:
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused snapshot left %s behind", dir)
			}
		default:
			t.Errorf("snapshot racing destroy: %v, %q", err, errb.String())
		}
	}
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary %s left behind", e.Name())
		}
	}
}
