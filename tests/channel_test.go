package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// Channel v2: one ring and one CTF stream per pCPU.

// Four pCPUs write four stream files; every packet of channel0_N carries
// cpu_id N and is numbered from 0 without a gap; babeltrace2 reads every
// record written, pCPU by pCPU as status counts them; timestamps never
// decrease within a stream; lttv-xen check passes.
func TestChannelStreamPerCPU(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "4", "--rate", "20000"})
	out := filepath.Join(t.TempDir(), "trace")
	st, summary := traceSession(t, s, out, 700*time.Millisecond, "--subbuf-size", "64KiB", "--num-subbuf", "8")
	if len(st.PerCPU) != 4 {
		t.Fatalf("status after stop: per_cpu %+v", st.PerCPU)
	}
	streams := streamDir(t, out, 64<<10)
	if len(streams) != 4 {
		t.Fatalf("stream files %v, want channel0_0 .. channel0_3", keys(streams))
	}
	for cpu := range 4 {
		name := fmt.Sprintf("channel0_%d", cpu)
		pkts := streams[name]
		if uint64(len(pkts)) != st.PerCPU[cpu].PacketsDelivered {
			t.Errorf("%s holds %d packets, pCPU %d delivered %d", name, len(pkts), cpu, st.PerCPU[cpu].PacketsDelivered)
		}
		for i, p := range pkts {
			if p.CPU != uint32(cpu) || p.SeqNum != uint64(i) {
				t.Fatalf("%s: packet %d has cpu_id %d, packet_seq_num %d", name, i, p.CPU, p.SeqNum)
			}
		}
		if !strings.Contains(summary, name+": ") {
			t.Errorf("lttd-xen summary has no line for %s:\n%s", name, summary)
		}
	}
	events, stderr, discarded := babeltrace(t, out)
	// (A loaded machine may make lttd-xen fall behind: then what was lost
	// is exactly what babeltrace2 reports as discarded.)
	if discarded != st.EventsLost || uint64(len(events)) != st.EventsWritten {
		t.Fatalf("babeltrace2: %d events, %d discarded; the hypervisor wrote %d, lost %d\n%s", len(events), discarded, st.EventsWritten, st.EventsLost, firstLines(stderr, 5))
	}
	perCPU := map[int]uint64{}
	last := map[int]uint64{}
	for i, e := range events {
		perCPU[e.cpu]++
		if e.cycles < last[e.cpu] {
			t.Fatalf("pCPU %d: timestamps decrease at event %d:\n%s", e.cpu, i, e.line)
		}
		last[e.cpu] = e.cycles
	}
	for _, c := range st.PerCPU {
		if perCPU[c.CPU] != c.EventsWritten {
			t.Errorf("pCPU %d: babeltrace2 printed %d events, status says %d written", c.CPU, perCPU[c.CPU], c.EventsWritten)
		}
	}
	checkOrder(t, events)
	s.checkTrace(out)
}

var btStreamDiscarded = regexp.MustCompile(`discarded (\d+) events?\b.*within stream "[^"]*channel0_(\d+)"`)

// Loss is exact per stream: each pCPU's ring counts what it drops, its
// packets carry its own cumulative events_discarded, and babeltrace2's
// discarded-events warnings for channel0_N add up to pCPU N's events_lost.
func TestChannelPerCPULossIsExact(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "0"})
	out := filepath.Join(t.TempDir(), "trace")
	st, _ := traceSession(t, s, out, 400*time.Millisecond, "--subbuf-size", "4KiB", "--num-subbuf", "2")
	if st.EventsLost == 0 {
		t.Skip("no loss with 2 flat-out pCPUs into 2 x 4 KiB: nothing to check")
	}
	events, stderr, discarded := babeltrace(t, out)
	lost := map[int]uint64{}
	for _, m := range btStreamDiscarded.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		cpu, _ := strconv.Atoi(m[2])
		lost[cpu] += n
	}
	var sum uint64
	for _, c := range st.PerCPU {
		sum += c.EventsLost
		if lost[c.CPU] != c.EventsLost {
			t.Errorf("pCPU %d: babeltrace2 reports %d discarded in channel0_%d, the hypervisor counted %d lost", c.CPU, lost[c.CPU], c.CPU, c.EventsLost)
		}
	}
	if sum != st.EventsLost || discarded != st.EventsLost || uint64(len(events)) != st.EventsWritten {
		t.Errorf("totals: per_cpu lost %d, events_lost %d, babeltrace2 discarded %d; events %d, written %d",
			sum, st.EventsLost, discarded, len(events), st.EventsWritten)
	}
}

// One consumer per trace: a second lttd-xen is refused at once with one
// line naming the first one's pid, writes nothing, and the first one's
// trace stays whole.
func TestChannelSecondConsumerRefused(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "10000"})
	s.ctl("create", "--subbuf-size", "16KiB", "--num-subbuf", "4")
	out := filepath.Join(t.TempDir(), "trace")
	lttd := s.startConsumer(out)
	s.ctl("start")
	time.Sleep(200 * time.Millisecond)
	second := filepath.Join(t.TempDir(), "second")
	r := s.run("lttd-xen", "--output", second)
	pid := lttd.cmd.Process.Pid
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("pid %d holds the role", pid)) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("second lttd-xen: exit %d, stderr %q; want exit 1 and one line naming pid %d", r.code, r.stderr, pid)
	}
	if _, err := os.Stat(second); err == nil {
		t.Errorf("the refused consumer created %s", second)
	}
	if st := s.status(); st.ConsumerPID != pid {
		t.Errorf("status consumer_pid %d, want lttd-xen's %d", st.ConsumerPID, pid)
	}
	time.Sleep(200 * time.Millisecond)
	s.ctl("stop")
	st := s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d:\n%s", code, lttd.stderr)
	}
	checkExact(t, out, st)
	if st := s.status(); st.ConsumerPID != 0 && st.State != "none" {
		t.Errorf("after destroy: consumer pid %d", st.ConsumerPID)
	}
}

// The trace clock: --clock monotonic is CLOCK_MONOTONIC in ns, shown by
// status and declared in the metadata; the default (auto) is the TSC when
// the start-up check passes, else monotonic, logged either way; a bad
// value is a usage error naming the choices.
func TestChannelClockChoice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		arg, want string
	}{{"monotonic", "monotonic"}, {"auto", ""}} {
		t.Run(tc.arg, func(t *testing.T) {
			s := newSession(t)
			hv, _ := s.startDaemons([]string{"--cpus", "1", "--clock", tc.arg})
			st := s.status()
			m := regexp.MustCompile(`msg="trace clock" cmd=hypervisor clock=(\w+)`).FindStringSubmatch(hv.stderr.String())
			if m == nil {
				t.Fatalf("the hypervisor did not log its clock:\n%s", hv.stderr)
			}
			if st.Clock != m[1] || (tc.want != "" && st.Clock != tc.want) {
				t.Errorf("status clock %q, logged %q, want %q", st.Clock, m[1], tc.want)
			}
			if !regexp.MustCompile(`(?m)^clock +` + st.Clock + `$`).MatchString(s.ctl("status")) {
				t.Errorf("lttctl-xen status does not show the clock")
			}
			s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "2")
			out := filepath.Join(t.TempDir(), "trace")
			lttd := s.startConsumer(out)
			s.ctl("destroy")
			if code := s.wait(lttd, 30*time.Second); code != 0 {
				t.Fatalf("lttd-xen exit %d", code)
			}
			meta, err := os.ReadFile(filepath.Join(out, "metadata"))
			if err != nil {
				t.Fatal(err)
			}
			name := "monotonic"
			if st.Clock == "tsc" {
				name = "tsc"
			}
			if !strings.Contains(string(meta), "name = "+name+";") && !strings.Contains(string(meta), `name = "`+name+`";`) {
				t.Errorf("metadata does not declare the %s clock:\n%s", name, firstLines(string(meta), 40))
			}
		})
	}
	s := newSession(t)
	r := s.run("hypervisor", "--clock", "sundial")
	if r.code != 2 || !strings.Contains(r.stderr, `--clock "sundial": want auto, monotonic or tsc`) {
		t.Errorf("hypervisor --clock sundial: exit %d, %q", r.code, r.stderr)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The rings of pCPUs that never come online cost no memory: 64 possible
// pCPUs of 8 MiB each is a 512 MiB buffer memfd, but only the online
// pCPU's ring is ever written, so the hypervisor's and lttd-xen's resident
// shared memory stay near one ring's 8 MiB.
func TestChannelOfflineRingsCostNothing(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	hv, _ := s.startDaemons([]string{"--cpus", "1", "--max-cpus", "64", "--rate", "0"})
	s.ctl("create", "--subbuf-size", "1MiB", "--num-subbuf", "8")
	out := filepath.Join(t.TempDir(), "trace")
	lttd := s.startConsumer(out)
	s.ctl("start")
	time.Sleep(300 * time.Millisecond)
	for _, d := range []*daemon{hv, lttd} {
		if kib := rssShmemKiB(t, d.cmd.Process.Pid); kib > 24<<10 {
			t.Errorf("%s has %d KiB of shared memory resident; one ring is 8 MiB, the 64 possible are 512 MiB", d.name, kib)
		}
	}
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d", code)
	}
}

// rssShmemKiB reads RssShmem from /proc/PID/status.
func rssShmemKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RssShmem:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no RssShmem in /proc/%d/status", pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
