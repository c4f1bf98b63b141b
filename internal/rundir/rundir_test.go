package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name, flag, env, xdg, want string
	}{
		{"flag wins", "/f", "/e", "/x", "/f"},
		{"env", "", "/e", "/x", "/e"},
		{"xdg", "", "", "/run/user/7", "/run/user/7/lttng-xen"},
		{"tmp", "", "", "", "/tmp/lttng-xen-" + strconv.Itoa(os.Geteuid())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvVar, tc.env)
			t.Setenv("XDG_RUNTIME_DIR", tc.xdg)
			if got := Resolve(tc.flag); got != tc.want {
				t.Fatalf("Resolve(%q) = %q, want %q", tc.flag, got, tc.want)
			}
		})
	}
}

func perm(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func TestEnsureCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "run")
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	if m := perm(t, dir); !m.IsDir() || m.Perm() != 0o700 {
		t.Fatalf("mode %v", m)
	}
	// Idempotent.
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureFixesMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	if m := perm(t, dir); m.Perm() != 0o700 || m&os.ModeSticky != 0 {
		t.Fatalf("mode %v", m)
	}
}

func TestEnsureRejects(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("symlink to dir: %v", err)
	}
	dangling := filepath.Join(base, "dangling")
	if err := os.Symlink(filepath.Join(base, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dangling); !errors.Is(err, ErrSymlink) {
		t.Errorf("dangling symlink: %v", err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(file); !errors.Is(err, ErrNotDir) {
		t.Errorf("file: %v", err)
	}
	if err := Ensure(""); err == nil {
		t.Error("empty path accepted")
	}
}

func TestEnsureNotOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory owned by someone else")
	}
	dir := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("got %v", err)
	}
	if m := perm(t, dir); m.Perm() != 0o777 {
		t.Fatalf("mode changed to %v", m)
	}
}

func TestPath(t *testing.T) {
	if got := Path("/run/x", Dom0Socket); got != "/run/x/dom0.sock" {
		t.Fatal(got)
	}
	if HypervisorSocket != "hypervisor.sock" || Dom0Socket != "dom0.sock" {
		t.Fatal("socket names changed")
	}
}
