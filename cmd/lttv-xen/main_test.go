package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

var subcommands = []string{"dump", "stats", "check", "summary", "timeline", "export"}

// outputArgs are the arguments a subcommand needs besides DIR: timeline
// and export write a file.
func outputArgs(t *testing.T, cmd string) []string {
	switch cmd {
	case "timeline", "export":
		return []string{"--output", filepath.Join(t.TempDir(), "out")}
	}
	return nil
}

func TestVersion(t *testing.T) {
	r := run(t, "--version")
	r.wantOK(t)
	if want := name + " version " + cmdline.Version + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

func TestHelp(t *testing.T) {
	r := run(t, "--help")
	r.wantOK(t)
	for _, w := range []string{"EXAMPLES:", "--version", "Exit status"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("help does not mention %q", w)
		}
	}
	dir := sampleTrace(t, 10).write()
	for _, cmd := range subcommands {
		if !strings.Contains(r.stdout, "\n   "+cmd+" ") {
			t.Errorf("help does not list %s", cmd)
		}
		for _, args := range [][]string{{cmd, "--help"}, {"help", cmd}, {cmd, dir, "--help"}, {cmd, dir, "-h"}} {
			r := run(t, args...)
			r.wantOK(t)
			for _, w := range []string{"USAGE:\n   " + name + " [global options] " + cmd, "DIR", "DESCRIPTION:", "EXAMPLES:\n   ", "OPTIONS:"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%s: help does not contain %q", args, w)
				}
			}
		}
	}
	// The flags are documented, each in its command's description too.
	for cmd, flags := range map[string][]string{"dump": {"--raw", "--salvage", "--follow"}, "stats": {"--json", "--salvage"}, "check": {"--salvage"},
		"summary": {"--json", "--salvage", "--begin", "--end"}, "timeline": {"--output", "--salvage", "--begin", "--end"},
		"export": {"--format", "--output", "--salvage", "--begin", "--end"}} {
		r := run(t, cmd, "--help")
		desc, opts, _ := strings.Cut(r.stdout, "OPTIONS:")
		for _, f := range flags {
			if !strings.Contains(opts, f+" ") || !strings.Contains(desc, f) {
				t.Errorf("%s --help does not document %s in its options and description", cmd, f)
			}
		}
	}
	// The JSON keys of summary are documented.
	r = run(t, "summary", "--help")
	for _, k := range []string{"trace", "begin_ns", "end_ns", "duration_ns", "events", "pcpus", "domains", "hypercalls", "irqs", "page_faults", "lost", "skipped_bytes", "skipped_packets"} {
		if !strings.Contains(r.stdout, "   "+k+" ") {
			t.Errorf("summary --help does not document the JSON key %q", k)
		}
	}
	// The JSON keys of stats are documented.
	r = run(t, "stats", "--help")
	for _, k := range []string{"events", "packets", "events_lost", "per_event", "per_cpu", "first_ns", "last_ns", "duration_ns", "first_time", "last_time", "events_per_sec", "skipped_bytes", "skipped_packets", "skipped"} {
		if !strings.Contains(r.stdout, "   "+k+" ") {
			t.Errorf("stats --help does not document the JSON key %q", k)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := sampleTrace(t, 10).write()
	type usageCase struct{ args, want []string }
	tests := []usageCase{
		{nil, []string{"no command given", "--help"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"--bogus", "check", dir}, []string{"--bogus", "not defined"}},
		{[]string{"stats", "--raw", dir}, []string{"stats: ", "--raw", "not defined", "lttv-xen stats --help"}},
		{[]string{"dump", dir, "--json"}, []string{"dump: ", "--json", "not defined", "lttv-xen dump --help"}},
		{[]string{"check", dir, "--raw"}, []string{"check: ", "--raw", "not defined"}},
		{[]string{"stats", dir, "--json=maybe"}, []string{"stats: ", "--json=maybe"}},
	}
	for _, cmd := range subcommands {
		tests = append(tests,
			usageCase{[]string{cmd}, []string{cmd + ": missing trace directory DIR", name + " " + cmd + " --help"}},
			usageCase{[]string{cmd, dir, "other"}, []string{cmd + `: unexpected argument "other"`}},
		)
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := run(t, tc.args...)
			r.wantFail(t, cmdline.ExitUsage, tc.want...)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// TestNotATrace runs every command on directories that are not traces: each
// fails with exit 1, a message saying what is missing, and no output.
func TestNotATrace(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(empty, "nope")
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, []byte("not a trace"))
	noStream := sampleTrace(t, 10).write()
	if err := os.Remove(filepath.Join(noStream, "channel0_0")); err != nil {
		t.Fatal(err)
	}
	badMeta := sampleTrace(t, 10).write()
	writeFile(t, filepath.Join(badMeta, "metadata"), []byte("/* CTF 1.8 */\ntrace { major = 1; minor = 8; ;\n"))
	for _, tc := range []struct {
		name, dir string
		want      []string
	}{
		{"empty", empty, []string{empty + ": not a trace directory: no metadata file"}},
		{"missing", missing, []string{missing + ": no such trace directory"}},
		{"file", file, []string{file + ": not a directory"}},
		{"bad metadata", badMeta, []string{filepath.Join(badMeta, "metadata") + ": offset ", "bad metadata"}},
	} {
		for _, cmd := range subcommands {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				r := run(t, append(append([]string{cmd}, outputArgs(t, cmd)...), tc.dir)...)
				want := tc.want
				if cmd == "check" {
					want = append([]string{name + ": check: "}, want...)
				}
				r.wantFail(t, cmdline.ExitError, want...)
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
			})
		}
	}
}

// TestNoStream: a trace with metadata and no stream file is one in which no
// pCPU wrote a packet (lttd-xen creates a stream with its first packet).
// As babeltrace2 does, dump, stats and check read it as a trace of no
// event; summary and timeline say there is nothing to show.
func TestNoStream(t *testing.T) {
	dir := sampleTrace(t, 10).write()
	if err := os.Remove(filepath.Join(dir, "channel0_0")); err != nil {
		t.Fatal(err)
	}
	r := run(t, "check", dir)
	r.wantOK(t)
	if !strings.Contains(r.stdout, "OK: 0 packets, 0 events, 0 lost") {
		t.Errorf("check: %q", r.stdout)
	}
	run(t, "dump", dir).wantOK(t)
	run(t, "stats", dir).wantOK(t)
	run(t, "summary", dir).wantFail(t, cmdline.ExitError, "the trace holds no event")
}

// TestFlagsAfterDir: "lttv-xen stats DIR --json" is how people type it.
func TestFlagsAfterDir(t *testing.T) {
	dir := sampleTrace(t, 30).write()
	for _, tc := range []struct{ before, after []string }{
		{[]string{"stats", "--json", dir}, []string{"stats", dir, "--json"}},
		{[]string{"stats", "--json", dir}, []string{"stats", dir, "-json=true"}},
		{[]string{"stats", dir}, []string{"stats", dir, "--json=false"}},
		{[]string{"dump", "--raw", dir}, []string{"dump", dir, "--raw"}},
	} {
		want, got := run(t, tc.before...), run(t, tc.after...)
		want.wantOK(t)
		got.wantOK(t)
		if got.stdout != want.stdout {
			t.Errorf("%s printed\n%s\nwant (as %s)\n%s", tc.after, got.stdout, tc.before, want.stdout)
		}
	}
}
