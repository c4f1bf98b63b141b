package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/size"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestCreate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want wire.CreateArgs
		out  string
	}{
		{
			nil,
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeDiscard, Name: autoName, Output: autoOutput},
			"Session auto-20260102-030405 created: 8 sub-buffers of 64KiB (512KiB), mode discard\nTraces will be written in /nonexistent/home/user/lttng-traces/auto-20260102-030405\n",
		},
		{
			[]string{"web", "--subbuf-size", "1MiB", "--num-subbuf", "4", "--mode", "discard", "--switch-timer", "500ms"},
			wire.CreateArgs{SubbufSize: 1 << 20, NumSubbuf: 4, Mode: wire.ModeDiscard, SwitchTimer: 500 * time.Millisecond,
				Name: "web", Output: "/nonexistent/home/user/lttng-traces/web-20260102-030405"},
			"Session web created: 4 sub-buffers of 1MiB (4MiB), mode discard\nTraces will be written in /nonexistent/home/user/lttng-traces/web-20260102-030405\n",
		},
		{
			[]string{"--no-output", "--subbuf-size", "4096", "--num-subbuf", "2", "--switch-timer", "250000"},
			wire.CreateArgs{SubbufSize: 4096, NumSubbuf: 2, Mode: wire.ModeDiscard, Name: autoName, SwitchTimer: 250 * time.Millisecond},
			"Session auto-20260102-030405 created: 2 sub-buffers of 4KiB (8KiB), mode discard\nNo output: run lttd-xen --output DIR to record the trace\n",
		},
		{
			[]string{"--output", "/srv/trace", "--subbuf-size", "2GiB", "--num-subbuf", "2"}, // 4GiB: the largest buffer
			wire.CreateArgs{SubbufSize: 2 << 30, NumSubbuf: 2, Mode: wire.ModeDiscard, Name: autoName, Output: "/srv/trace"},
			"Session auto-20260102-030405 created: 2 sub-buffers of 2GiB (4GiB), mode discard\nTraces will be written in /srv/trace\n",
		},
		{
			[]string{"--no-output", "--events", "sched_*, irq_*", "--events", "page_fault", "--cpus", "3,0-1"},
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeDiscard, Name: autoName,
				Events: []string{"sched_*", "irq_*", "page_fault"}, CPUs: []int{3, 0, 1}},
			"Session auto-20260102-030405 created: 8 sub-buffers of 64KiB (512KiB), mode discard\nNo output: run lttd-xen --output DIR to record the trace\n",
		},
		{
			[]string{"--overwrite"},
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeOverwrite, Name: autoName},
			"Session auto-20260102-030405 created: 8 sub-buffers of 64KiB (512KiB), mode overwrite\nFlight recorder: lttctl-xen snapshot writes the newest data\n",
		},
		{
			[]string{"--mode", "overwrite", "--overwrite"},
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeOverwrite, Name: autoName},
			"Session auto-20260102-030405 created: 8 sub-buffers of 64KiB (512KiB), mode overwrite\nFlight recorder: lttctl-xen snapshot writes the newest data\n",
		},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d := startFakeDom0(t, ok)
			d.run(t, append([]string{"create"}, tc.args...)...).wantOK(t, tc.out)
			d.wantRequests(t, wire.Request{Op: wire.OpCreate, Create: &tc.want})
		})
	}
}

// TestCreateUsage checks what create rejects itself: exit 2, a message naming the flag,
// the value and the rule, and nothing sent to dom0.
func TestCreateUsage(t *testing.T) {
	d := startFakeDom0(t, ok)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--subbuf-size", "3000"}, []string{"--subbuf-size 3000", "power of two", "at least 4KiB", "try 4KiB"}},
		{[]string{"--subbuf-size", "100000"}, []string{"--subbuf-size 100000", "power of two", "try 64KiB or 128KiB"}},
		{[]string{"--subbuf-size", "2KiB"}, []string{"--subbuf-size 2KiB", "at least 4KiB"}},
		{[]string{"--subbuf-size", "0"}, []string{"--subbuf-size 0", "at least 4KiB"}},
		{[]string{"--subbuf-size", "64KB"}, []string{"--subbuf-size", "64KB", "KiB"}},
		{[]string{"--subbuf-size", "lots"}, []string{"--subbuf-size", "lots"}},
		{[]string{"--subbuf-size", "-4K"}, []string{"--subbuf-size", "-4K"}},
		{[]string{"--num-subbuf", "3"}, []string{"--num-subbuf 3", "power of two", "try 2 or 4"}},
		{[]string{"--num-subbuf", "1"}, []string{"--num-subbuf 1", "at least 2"}},
		{[]string{"--num-subbuf", "0"}, []string{"--num-subbuf 0", "at least 2"}},
		{[]string{"--num-subbuf", "-8"}, []string{"--num-subbuf", "-8"}},
		{[]string{"--num-subbuf", "many"}, []string{"--num-subbuf", "many"}},
		{[]string{"--subbuf-size", "1GiB", "--num-subbuf", "8"}, []string{"--num-subbuf 8", "--subbuf-size 1GiB", "8GiB", "at most 4GiB"}},
		{[]string{"--subbuf-size", "4GiB", "--num-subbuf", "2"}, []string{"--num-subbuf 2", "--subbuf-size 4GiB", "at most 4GiB"}},
		{[]string{"--subbuf-size", "8589934592G", "--num-subbuf", "4"}, []string{"--subbuf-size 8589934592G", "over 16EiB"}},
		{[]string{"--mode", "ring"}, []string{"--mode", `"ring"`, `"discard" or "overwrite"`}},
		{[]string{"--mode", "discard", "--overwrite"}, []string{"--overwrite", "--mode discard", "contradict"}},
		{[]string{"--overwrite", "--output", "/srv/x"}, []string{"--output", "overwrite-mode trace has no consumer", "snapshot"}},
		{[]string{"--switch-timer", "-1s"}, []string{"--switch-timer -1s", "negative"}},
		{[]string{"--switch-timer", "often"}, []string{"--switch-timer", "often", "microseconds"}},
		{[]string{"--switch-timer", "500"}, []string{"--switch-timer 500", "below the minimum, 1ms (1000 µs)"}},
		{[]string{"--switch-timer", "100us"}, []string{"--switch-timer 100us", "below the minimum, 1ms"}},
		{[]string{"--cpus", "1-0"}, []string{"--cpus", "1-0", "goes down"}},
		{[]string{"--cpus", "x"}, []string{"--cpus", `"x" is not a pCPU id`}},
		{[]string{"--cpus", ""}, []string{"--cpus", "empty list"}},
		{[]string{"--output", "x", "--no-output"}, []string{"--output and --no-output exclude each other"}},
		{[]string{"a/b"}, []string{"session name", "a/b", "'/'"}},
		{[]string{"a", "b"}, []string{"unexpected argument", `"b"`}},
		{[]string{"--output"}, []string{"flag needs an argument: --output"}},
		{[]string{"--events", "sched_["}, []string{"--events", "sched_[", "glob"}},
		{[]string{"--events", "a,,b"}, []string{"--events", "empty glob"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d.run(t, append([]string{"create"}, tc.args...)...).wantFail(t, cmdline.ExitUsage, tc.want...)
		})
	}
	d.wantRequests(t)
}

// The automatic name and default output of the runs (see testNow, testHome).
const (
	autoName   = "auto-20260102-030405"
	autoOutput = "/nonexistent/home/user/lttng-traces/" + autoName
)

// A default output directory that exists already gets a suffix; a relative --output is made
// absolute.
func TestCreateOutputDir(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "lttng-traces", autoName), 0o755); err != nil {
		t.Fatal(err)
	}
	d := startFakeDom0(t, ok)
	setHome := func(tl *tool) { tl.home = func() (string, error) { return home, nil } }
	d.runWith(t, setHome, "create").wantOK(t, "Session "+autoName+" created: 8 sub-buffers of 64KiB (512KiB), mode discard\n"+
		"Traces will be written in "+filepath.Join(home, "lttng-traces", autoName)+"-1\n")
	t.Chdir(home)
	d.run(t, "create", "--output", "rel").wantOK(t, "Session "+autoName+" created: 8 sub-buffers of 64KiB (512KiB), mode discard\n"+
		"Traces will be written in "+filepath.Join(home, "rel")+"\n")
}

func TestCreateFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		code *wire.RemoteError
	}{
		{"exists", "a trace already exists: destroy it first (lttctl-xen destroy)", wire.ErrExists},
		{"rejected", "bad geometry: sub-buffer size 65536 is above the maximum", wire.ErrBadRequest},
		{"unknown event", `no event matches "schd_*" (lttctl-xen event list shows them)`, wire.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, fail(tc.msg, tc.code))
			r := d.run(t, "create")
			r.wantFail(t, cmdline.ExitError)
			if want := name + ": create: " + tc.msg + "\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
		})
	}
}

func TestNearPow2(t *testing.T) {
	for _, tc := range []struct {
		v, least uint64
		want     string
	}{
		{0, 4096, "4KiB"},
		{3000, 4096, "4KiB"},
		{4097, 4096, "4KiB or 8KiB"},
		{100000, 4096, "64KiB or 128KiB"},
		{3 << 30, 4096, "2GiB or 4GiB"},
		{1<<64 - 1, 4096, "8589934592GiB"},
		{1, 2, "2"},
		{3, 2, "2 or 4"},
	} {
		format := size.Format
		if tc.least == 2 {
			format = formatCount
		}
		if got := nearPow2(tc.v, tc.least, format); got != tc.want {
			t.Errorf("nearPow2(%d, %d) = %q, want %q", tc.v, tc.least, got, tc.want)
		}
	}
}
