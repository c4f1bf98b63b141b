package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// Every example of every --help and every command of the README runs as printed.
//
// The examples of one --help run in order, in one shell, in a fresh session: a hypervisor
// (--cpus 4) and a dom0 of their own, no trace, an empty working directory and $HOME. So an
// example needs nothing it does not make itself (the session, the event types it emits).
// The README's blocks run in order in one shell with no daemons (the README starts them),
// and its hand-run session block runs twice. The runner does what a user at a terminal
// does between lines, and nothing else:
//   - after a daemon started in the background ("dom0 &"), it waits for the daemon's ready
//     line, as a user waits to see it;
//   - a line that runs until interrupted (--watch, --follow) gets a ^C (SIGINT to its
//     process group) once it has printed something, and must end with status 0 (or 130,
//     the interrupted status of a pipeline's reader);
//   - a daemon's line without '&' (hypervisor --cpus 8) runs in a run directory of its own
//     until it is ready, then gets SIGTERM and must exit 0.
//
// Three things stand in for what the tree cannot hold: "/tmp/trace" and "/tmp/damaged-trace"
// in lttv-xen's examples are a trace recorded for the test and a copy with its stream files
// cut short; the README's "go build -o bin/ ./cmd/..." is the build TestMain makes (bin/ is
// a link to it); and its first block (./scripts/trace-session.sh and ./scripts/test.sh) is
// run by TestTraceSessionScript and is this test suite itself.

// helpText is the --help output of one command.
type helpText struct {
	args []string // the command line: binary, subcommands, --help
	text string
}

// daemonMarks are the ready lines of the daemons, for lines that start them.
var daemonMarks = map[string]string{
	"hypervisor": "hypervisor ready",
	"dom0":       "bound VIRQ_TBUF",
	"lttd-xen":   "consuming",
}

// standaloneMarks are the ready lines of a daemon run on its own (no hypervisor for dom0).
var standaloneMarks = map[string]string{
	"hypervisor": "hypervisor ready",
	"dom0":       "dom0 ready",
}

// helps returns the --help of every command and subcommand of every binary.
func helps(t *testing.T) []helpText {
	t.Helper()
	var out []helpText
	var walk func(args []string)
	walk = func(args []string) {
		s := &session{t: t}
		r := s.run(args[0], append(slices.Clone(args[1:]), "--help")...)
		if r.code != 0 {
			t.Fatalf("%s --help: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		out = append(out, helpText{args: args, text: r.stdout})
		for _, sub := range subcommands(r.stdout) {
			walk(append(slices.Clone(args), sub))
		}
	}
	for _, b := range []string{"lttctl-xen", "lttd-xen", "lttv-xen", "hypervisor", "dom0"} {
		walk([]string{b})
	}
	return out
}

// subcommands lists the COMMANDS section of a help text, without help.
func subcommands(help string) []string {
	_, rest, ok := strings.Cut(help, "\nCOMMANDS:\n")
	if !ok {
		return nil
	}
	var out []string
	for line := range strings.SplitSeq(rest, "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		name := strings.TrimSuffix(strings.Fields(line)[0], ",")
		if name != "help" {
			out = append(out, name)
		}
	}
	return out
}

var examplesHeading = regexp.MustCompile(`(?m)^\s*(EXAMPLES|Examples):\s*$`)

// examples returns the example lines of a help text: the indented lines after its
// EXAMPLES: (or Examples:) heading, up to a blank line.
func examples(help string) []string {
	loc := examplesHeading.FindStringIndex(help)
	if loc == nil {
		return nil
	}
	var out []string
	for line := range strings.SplitSeq(help[loc[1]:], "\n") {
		if line == "" && len(out) == 0 {
			continue
		}
		if strings.TrimSpace(line) == "" {
			break
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// readmeBlocks returns the README's code blocks (lines indented by four spaces after a
// blank line), each as its lines.
func readmeBlocks(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]string
	var cur []string
	prevBlank := true
	for line := range strings.SplitSeq(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "    ") && (prevBlank || cur != nil):
			cur = append(cur, strings.TrimSpace(line))
		case cur != nil:
			blocks = append(blocks, cur)
			cur = nil
		}
		prevBlank = strings.TrimSpace(line) == ""
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	return blocks
}

// lineKind says how the runner runs a line.
type lineKind int

const (
	plainLine      lineKind = iota // run in the shell, status 0 expected
	backgroundLine                 // "daemon ... &": run in the shell, then wait for its ready line
	daemonLine                     // "daemon ..." without '&': on its own, then SIGTERM
	interruptLine                  // runs until ^C
)

// command returns a line's first word and whether it ends with '&' (comments aside).
func command(line string) (first string, background bool) {
	code := line
	if i := strings.Index(code, " #"); i >= 0 {
		code = code[:i]
	}
	code = strings.TrimSpace(code)
	if f := strings.Fields(code); len(f) > 0 {
		first = f[0]
	}
	return first, strings.HasSuffix(code, "&") && !strings.HasSuffix(code, "&&")
}

func kindOf(line string) lineKind {
	first, bg := command(line)
	_, daemon := daemonMarks[first]
	switch {
	case daemon && bg:
		return backgroundLine
	case bg:
		return plainLine
	case strings.Contains(line, " --watch") || strings.Contains(line, " --follow"):
		return interruptLine
	case first == "hypervisor" || first == "dom0":
		return daemonLine
	}
	return plainLine
}

// runner runs example lines in one shell, keeping count of the daemons' ready lines.
type runner struct {
	t     *testing.T
	sh    *shell
	dir   string
	env   []string
	subst *strings.Replacer
}

func (r *runner) run(where string, line string) {
	r.t.Helper()
	line = r.subst.Replace(line)
	r.t.Logf("%s: $ %s", where, line)
	first, _ := command(line)
	switch kindOf(line) {
	case backgroundLine:
		mark := daemonMarks[first]
		n := strings.Count(r.sh.stderr.String(), mark)
		if code, out, errs := r.sh.run(line); code != 0 {
			r.t.Fatalf("%s: %s: exit %d\n%s%s", where, line, code, out, errs)
		}
		r.sh.waitStderr(mark, n, where+": "+line)
	case daemonLine:
		if code, errs := daemonOnce(r.t, r.dir, r.env, line, standaloneMarks[first]); code != 0 {
			r.t.Errorf("%s: %s: exit %d\n%s", where, line, code, errs)
		}
	case interruptLine:
		code, out, errs := interrupt(r.t, r.dir, r.env, line)
		if code != 0 && !(code == 130 && strings.Contains(line, "|")) {
			r.t.Errorf("%s: %s: exit %d after ^C\nstdout:\n%s\nstderr:\n%s", where, line, code, firstLines(out, 10), errs)
		}
	default:
		if code, out, errs := r.sh.run(line); code != 0 {
			r.t.Errorf("%s: %s: exit %d\nstdout:\n%s\nstderr:\n%s", where, line, code, firstLines(out, 20), errs)
		}
	}
}

// newRunner starts a shell in a fresh working directory, with PATH leading to the
// binaries, LTTNG_XEN_RUN_DIR set to s's run directory, and $HOME and $TMPDIR (mktemp) in
// that working directory.
func newRunner(t *testing.T, s *session, subst *strings.Replacer) *runner {
	dir := t.TempDir()
	env := append(s.env(), "PATH="+binDir+":"+os.Getenv("PATH"), "HOME="+filepath.Join(dir, "home"), "TMPDIR="+dir)
	if err := os.MkdirAll(filepath.Join(dir, "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &runner{t: t, sh: newShell(t, dir, env), dir: dir, env: env, subst: subst}
}

// recordTrace records a short trace into dir with a session of its own, and a copy of it in
// damaged whose stream files are cut in the middle of a packet.
func recordTrace(t *testing.T, dir, damaged string) {
	t.Helper()
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "20000"})
	s.ctl("create", "--output", dir, "--subbuf-size", "16KiB")
	s.ctl("start", "--duration", "300ms")
	s.ctl("destroy")
	if err := os.MkdirAll(damaged, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(e.Name(), "channel") && len(b) > 16<<10 {
			b = b[:len(b)-(16<<10)/2] // the last packet, half of it
		}
		if err := os.WriteFile(filepath.Join(damaged, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// needJQ skips the test when jq, which examples pipe into, is missing (fails it where
// LTTNG_XEN_REQUIRE_BABELTRACE says the test machine is complete, as in CI).
func needJQ(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("jq"); err != nil {
		if os.Getenv(testenv.RequireBabeltraceEnv) != "" {
			t.Fatal("jq is missing (scripts/test.sh installs it)")
		}
		t.Skip("jq is missing: the examples pipe into it")
	}
}

func TestHelpExamples(t *testing.T) {
	testenv.Babeltrace(t)
	needJQ(t)
	traces := t.TempDir()
	trace, damaged := filepath.Join(traces, "trace"), filepath.Join(traces, "damaged")
	recordTrace(t, trace, damaged)
	subst := strings.NewReplacer("/tmp/damaged-trace", damaged, "/tmp/trace", trace)
	for _, h := range helps(t) {
		lines := examples(h.text)
		name := strings.Join(h.args, " ")
		if len(lines) == 0 {
			t.Errorf("%s --help has no examples", name)
			continue
		}
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			s := newSession(t)
			s.startDaemons([]string{"--cpus", "4", "--rate", "1000"})
			r := newRunner(t, s, subst)
			for _, line := range lines {
				r.run(name+" --help", line)
			}
		})
	}
}

func TestReadmeCommands(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	needJQ(t)
	blocks := readmeBlocks(t)
	if len(blocks) < 2 || !slices.Equal(blocks[0], []string{
		"./scripts/trace-session.sh    # build, run a whole trace session on the defaults, show the trace",
		"./scripts/test.sh             # vet + every test with the race detector (installs babeltrace2 if root)",
	}) {
		t.Fatalf("the README's first block is not the two scripts: %q", blocks[:1])
	}
	s := &session{t: t, runDir: filepath.Join(t.TempDir(), "run")} // the README starts the daemons
	r := newRunner(t, s, strings.NewReplacer())
	if err := os.Symlink(binDir, filepath.Join(r.dir, "bin")); err != nil {
		t.Fatal(err)
	}
	again := -1
	for i, b := range blocks[1:] {
		for _, line := range b {
			if strings.HasPrefix(line, "go build ") {
				continue // TestMain's build; bin/ links to it
			}
			r.run("README", line)
		}
		if slices.ContainsFunc(b, func(l string) bool { return strings.HasPrefix(l, "lttv-xen stats") }) {
			again = i + 1
		}
	}
	if again < 0 {
		t.Fatal("no hand-run session (a block with lttv-xen stats) in the README")
	}
	for _, line := range blocks[again] { // works twice in a row
		r.run("README, the session again", line)
	}
}
