package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// commands lists every subcommand with arguments that make it send a request, and how its
// errors start.
var commands = []struct {
	args   []string
	prefix string
}{
	{[]string{"create"}, "create: "},
	{[]string{"start"}, "start: "},
	{[]string{"stop"}, "stop: "},
	{[]string{"destroy"}, "destroy: "},
	{[]string{"status"}, "status: "},
	{[]string{"status", "--json"}, "status: "},
	{[]string{"status", "--watch", "--interval", "100ms"}, "status: "},
	{[]string{"event", "add", "x(u8 a)"}, "event add: "},
	{[]string{"event", "list"}, "event list: "},
	{[]string{"emit", "--cpu", "1", "x", "a=1"}, "emit: "},
	{[]string{"enable-event", "x*"}, "enable-event: "},
	{[]string{"disable-event", "x*"}, "disable-event: "},
	{[]string{"cpu", "online", "1"}, "cpu online: "},
	{[]string{"cpu", "offline", "1"}, "cpu offline: "},
}

func TestVersion(t *testing.T) {
	r := run(t, "--version")
	r.wantOK(t, name+" version "+cmdline.Version+"\n")
}

func TestHelp(t *testing.T) {
	r := run(t, "--help")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, w := range []string{"EXAMPLES:", "--run-dir", "--log-level", "--timeout", "--version"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("help does not mention %q", w)
		}
	}
	// Each command's help: its usage line, a description, examples; its options, or its
	// subcommands for event and cpu.
	subs := map[string][]string{"event": {"add", "list"}, "cpu": {"online", "offline"}}
	for _, cmd := range []string{"create", "start", "stop", "destroy", "status", "event", "emit", "enable-event", "disable-event", "cpu"} {
		if !strings.Contains(r.stdout, "\n   "+cmd+" ") {
			t.Errorf("help does not list %s", cmd)
		}
		want := []string{"USAGE:\n   " + name + " [global options] " + cmd, "DESCRIPTION:", "EXAMPLES:\n   ", "OPTIONS:"}
		if len(subs[cmd]) > 0 {
			want[len(want)-1] = "COMMANDS:"
			for _, sub := range subs[cmd] {
				want = append(want, "\n   "+sub+" ")
			}
		}
		wantHelp(t, want, cmd, "--help")
		wantHelp(t, want, "help", cmd)
		for _, sub := range subs[cmd] {
			wantHelp(t, []string{"USAGE:\n   " + name + " [global options] " + cmd + " " + sub, "DESCRIPTION:", "EXAMPLES:\n   ", "OPTIONS:"},
				cmd, sub, "--help")
		}
	}
}

// wantHelp runs the command with args and checks that it printed help holding every one
// of want.
func wantHelp(t *testing.T, want []string, args ...string) {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%s: exit %d, stderr %q", args, r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("%s: help does not contain %q", args, w)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	d := startFakeDom0(t, func(req *wire.Request) (*wire.Reply, error) {
		t.Errorf("unexpected request %+v", req)
		return nil, errHangUp
	})
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"no command given", "--help"}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"--bogus", "status"}, []string{"--bogus", "not defined"}},
		{[]string{"status", "--bogus"}, []string{"status: ", "--bogus", "lttctl-xen status --help"}},
		{[]string{"--log-level", "loud", "status"}, []string{"--log-level", "loud"}},
		{[]string{"--timeout", "0", "status"}, []string{"--timeout 0s", "positive"}},
		{[]string{"--timeout", "soon", "status"}, []string{"--timeout", "soon"}},
		{[]string{"start", "now"}, []string{`start: unexpected argument "now"`}},
		{[]string{"stop", "now"}, []string{`stop: unexpected argument "now"`}},
		{[]string{"destroy", "all"}, []string{`destroy: unexpected argument "all"`}},
		{[]string{"status", "all"}, []string{`status: unexpected argument "all"`}},
		{[]string{"create", "big", "bigger"}, []string{`create: unexpected argument "bigger"`}},
		{[]string{"strat"}, []string{`unknown command "strat": did you mean "start"?`}},
		{[]string{"event", "lsit"}, []string{`event: unknown subcommand "lsit": did you mean "list"?`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d.run(t, tc.args...).wantFail(t, cmdline.ExitUsage, tc.want...)
		})
	}
	d.wantRequests(t)
}

func TestDom0NotRunning(t *testing.T) {
	for _, dir := range []struct{ name, path string }{
		{"no socket", t.TempDir()},
		{"stale socket", staleRunDir(t)},
	} {
		for _, cmd := range commands {
			t.Run(dir.name+"/"+strings.Join(cmd.args, " "), func(t *testing.T) {
				r := run(t, append([]string{"--run-dir", dir.path}, cmd.args...)...)
				r.wantFail(t, cmdline.ExitError, "dom0 is not running", dir.path)
			})
		}
	}
}

func TestNoAnswer(t *testing.T) {
	release := make(chan struct{})
	d := startFakeDom0(t, func(*wire.Request) (*wire.Reply, error) {
		<-release
		return nil, errHangUp
	})
	defer close(release) // before the fake's cleanup waits for its goroutines
	for _, cmd := range commands {
		t.Run(strings.Join(cmd.args, " "), func(t *testing.T) {
			begin := time.Now()
			r := d.run(t, append([]string{"--timeout", "100ms"}, cmd.args...)...)
			r.wantFail(t, cmdline.ExitError, name+": "+cmd.prefix+"dom0 did not answer within 100ms", "--timeout")
			if took := time.Since(begin); took > 10*time.Second {
				t.Errorf("gave up after %s, want about 100ms", took)
			}
		})
	}
}

func TestHangUp(t *testing.T) {
	d := startFakeDom0(t, func(*wire.Request) (*wire.Reply, error) { return nil, errHangUp })
	for _, cmd := range commands {
		t.Run(strings.Join(cmd.args, " "), func(t *testing.T) {
			d.run(t, cmd.args...).wantFail(t, cmdline.ExitError, name+": "+cmd.prefix+"dom0 closed the connection")
		})
	}
}

// TestDenied: a refusal of our uid is printed with its fix: --allow-uid, and
// the modes that keep other uids from the run directory and dom0.sock.
func TestDenied(t *testing.T) {
	msg := "uid 4242 is not allowed (this daemon serves root, its own uid 0 and its --allow-uid list): permission denied"
	d := startFakeDom0(t, fail(msg, wire.ErrDenied))
	uid := strconv.Itoa(os.Geteuid())
	for _, cmd := range commands {
		t.Run(strings.Join(cmd.args, " "), func(t *testing.T) {
			d.run(t, cmd.args...).wantFail(t, cmdline.ExitError, name+": "+cmd.prefix+msg,
				"--allow-uid "+uid, "chmod 0711 "+d.dir, "chmod 0666 "+filepath.Join(d.dir, "dom0.sock"))
		})
	}
}

func TestDebugLog(t *testing.T) {
	d := startFakeDom0(t, ok)
	r := d.run(t, "--log-level", "debug", "start")
	if r.code != 0 || r.stdout != "tracing started\n" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "op=start") {
		t.Errorf("debug log %q does not show the request", r.stderr)
	}
	if r := d.run(t, "start"); r.stderr != "" {
		t.Errorf("log at the default level: %q, want nothing", r.stderr)
	}
}

// -V and --version print the version; -v is verbose (lttng's spelling), not the version.
func TestVersionAndVerbose(t *testing.T) {
	for _, flag := range []string{"-V", "--version"} {
		r := run(t, flag)
		if r.code != 0 || r.stdout != name+" version "+cmdline.Version+"\n" {
			t.Errorf("%s: exit %d, stdout %q", flag, r.code, r.stdout)
		}
	}
	d := startFakeDom0(t, statusOf(t, wire.Status{State: wire.StateNone, CPUs: 1, CPUsOnline: []int{0}}))
	r := d.run(t, "-v", "status")
	if r.code != 0 || !strings.Contains(r.stderr, "level=DEBUG") || !strings.Contains(r.stdout, "state") {
		t.Errorf("-v status: exit %d, stdout %q, stderr %q; want the status and debug log lines", r.code, r.stdout, r.stderr)
	}
}
