package main

import (
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
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeDiscard},
			"trace created: 8 sub-buffers of 64KiB (512KiB), mode discard\n",
		},
		{
			[]string{"--subbuf-size", "1MiB", "--num-subbuf", "4", "--mode", "discard", "--switch-timer", "500ms"},
			wire.CreateArgs{SubbufSize: 1 << 20, NumSubbuf: 4, Mode: wire.ModeDiscard, SwitchTimer: 500 * time.Millisecond},
			"trace created: 4 sub-buffers of 1MiB (4MiB), mode discard\n",
		},
		{
			[]string{"--subbuf-size", "4096", "--num-subbuf", "2"},
			wire.CreateArgs{SubbufSize: 4096, NumSubbuf: 2, Mode: wire.ModeDiscard},
			"trace created: 2 sub-buffers of 4KiB (8KiB), mode discard\n",
		},
		{
			[]string{"--subbuf-size", "2GiB", "--num-subbuf", "2"}, // 4GiB: the largest buffer
			wire.CreateArgs{SubbufSize: 2 << 30, NumSubbuf: 2, Mode: wire.ModeDiscard},
			"trace created: 2 sub-buffers of 2GiB (4GiB), mode discard\n",
		},
		{
			[]string{"--events", "sched_*, irq_*", "--events", "page_fault"},
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeDiscard,
				Events: []string{"sched_*", "irq_*", "page_fault"}},
			"trace created: 8 sub-buffers of 64KiB (512KiB), mode discard\n",
		},
		{
			[]string{"--overwrite"},
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeOverwrite},
			"trace created: 8 sub-buffers of 64KiB (512KiB), mode overwrite\n",
		},
		{
			[]string{"--mode", "overwrite", "--overwrite"},
			wire.CreateArgs{SubbufSize: 64 << 10, NumSubbuf: 8, Mode: wire.ModeOverwrite},
			"trace created: 8 sub-buffers of 64KiB (512KiB), mode overwrite\n",
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
		{[]string{"--switch-timer", "-1s"}, []string{"--switch-timer -1s", "negative"}},
		{[]string{"--switch-timer", "often"}, []string{"--switch-timer", "often"}},
		{[]string{"--events", "sched_["}, []string{"--events", "sched_[", "glob"}},
		{[]string{"--events", "a,,b"}, []string{"--events", "empty glob"}},
		{[]string{"--cpus", "4"}, []string{"create: ", "--cpus"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d.run(t, append([]string{"create"}, tc.args...)...).wantFail(t, cmdline.ExitUsage, tc.want...)
		})
	}
	d.wantRequests(t)
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
