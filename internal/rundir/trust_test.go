package rundir

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrustedAccepts: our own private run directory, its socket, and one
// under a sticky world-writable parent (as /tmp is) are trusted.
func TestTrustedAccepts(t *testing.T) {
	base := t.TempDir()
	sticky := filepath.Join(base, "tmp")
	if err := os.Mkdir(sticky, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(sticky, "run")
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	sock := listenUnix(t, Path(dir, Dom0Socket))
	if err := Trusted(dir); err != nil {
		t.Errorf("Trusted(%s): %v", dir, err)
	}
	if err := TrustedSocket(sock); err != nil {
		t.Errorf("TrustedSocket(%s): %v", sock, err)
	}
	// A socket that does not exist is not a trust problem (dialling says it is missing).
	if err := TrustedSocket(Path(dir, HypervisorSocket)); err != nil {
		t.Errorf("TrustedSocket of a missing socket: %v", err)
	}
}

// TestTrustedRefuses: a run directory others can write to (or under a
// parent they can write to without the sticky bit) is refused with a
// message naming the path and the mode.
func TestTrustedRefuses(t *testing.T) {
	base := t.TempDir()
	for _, tc := range []struct {
		name  string
		setup func(dir string) string // returns the run dir
		want  string
	}{
		{"world-writable", func(d string) string { mkdir(t, d, 0o777); return d }, "writable by others"},
		{"group-writable", func(d string) string { mkdir(t, d, 0o770); return d }, "writable by its group"},
		{"world-writable sticky", func(d string) string { mkdir(t, d, 0o777|os.ModeSticky); return d }, "writable by others"},
		{"parent world-writable", func(d string) string {
			mkdir(t, d, 0o777)
			mkdir(t, filepath.Join(d, "run"), 0o700)
			return filepath.Join(d, "run")
		}, "writable by others"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(filepath.Join(base, strings.ReplaceAll(tc.name, " ", "_")))
			err := Trusted(dir)
			if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Trusted(%s) = %v, want %q (ErrUntrusted)", dir, err, tc.want)
			}
		})
	}
}

// TestTrustedRefusesOtherOwner: a run directory or socket owned by a uid
// other than ours and root is refused.
func TestTrustedRefusesOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make files owned by someone else")
	}
	dir := filepath.Join(t.TempDir(), "theirs")
	mkdir(t, dir, 0o700)
	sock := listenUnix(t, Path(dir, Dom0Socket))
	if err := os.Lchown(sock, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := TrustedSocket(sock); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("TrustedSocket of another uid's socket: %v", err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := Trusted(dir); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("Trusted of another uid's directory: %v", err)
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func listenUnix(t *testing.T, path string) string {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return path
}
