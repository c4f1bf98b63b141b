package tests

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's first command works and leaves a readable trace.
func TestTraceSessionScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands; skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command("../scripts/trace-session.sh", "--duration", "1", "--output", out, "--cpus", "2", "--rate", "20000")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("trace-session.sh: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "0 events lost") {
		t.Errorf("no consumer summary in the output:\n%s", stdout.String())
	}
	s := &session{t: t}
	if r := s.run("lttv-xen", "check", out); r.code != 0 {
		t.Errorf("lttv-xen check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
