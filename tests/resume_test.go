package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// lttd-xen --resume touches only what it has proved belongs to the trace:
// before it changes anything it checks every stream file in the directory,
// and a symbolic link, a file whose first packet does not parse or one of
// another trace is refused, with nothing changed, not even the metadata.
// With --force such a file is copied aside whole and the stream starts
// afresh. (Issue 12, item 3.)
func TestResumeRefusesWhatIsNotThisTrace(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "2000"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")

	garbage := bytes.Repeat([]byte("not a CTF packet "), 600)
	oldMeta := []byte("/* CTF 1.8 */ a metadata file that must survive a refusal\n")
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) (check func(t *testing.T))
		want  string
	}{
		{"a symbolic link", func(t *testing.T, dir string) func(t *testing.T) {
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, garbage, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, filepath.Join(dir, "channel0_1")); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T) {
				if b, _ := os.ReadFile(victim); !bytes.Equal(b, garbage) {
					t.Error("the link's target was changed")
				}
			}
		}, "symbolic link"},
		{"a file that is not a trace", func(t *testing.T, dir string) func(t *testing.T) {
			name := filepath.Join(dir, "channel0_0")
			if err := os.WriteFile(name, garbage, 0o644); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T) {
				if b, _ := os.ReadFile(name); !bytes.Equal(b, garbage) {
					t.Error("the file was changed")
				}
			}
		}, "its first packet does not parse"},
		{"a stream of a pCPU the trace does not have", func(t *testing.T, dir string) func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "channel0_7"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return func(*testing.T) {}
		}, "pCPUs 0-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "metadata"), oldMeta, 0o644); err != nil {
				t.Fatal(err)
			}
			check := tc.setup(t, dir)
			r := s.run("lttd-xen", "--output", dir, "--resume")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("lttd-xen --resume: exit %d, stderr %q; want exit 1 naming %q", r.code, r.stderr, tc.want)
			}
			check(t)
			if b, _ := os.ReadFile(filepath.Join(dir, "metadata")); !bytes.Equal(b, oldMeta) {
				t.Error("the metadata was rewritten before the directory was accepted")
			}
			if st := s.status(); st.ConsumerPID != 0 {
				t.Errorf("the refused consumer still holds the role: pid %d", st.ConsumerPID)
			}
		})
	}

	// --force moves the foreign file aside whole and goes on.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "channel0_0"), garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	lttd := s.startConsumer(dir, "--resume", "--force")
	s.ctl("start")
	time.Sleep(300 * time.Millisecond)
	s.ctl("stop")
	st := s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen --resume --force exit %d:\n%s", code, lttd.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".channel0_0.torn-0")); err != nil || !bytes.Equal(b, garbage) {
		t.Errorf("the foreign file was not kept aside whole: %v", err)
	}
	checkExact(t, dir, st)
	s.checkTrace(dir)
}
