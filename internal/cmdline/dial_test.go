package cmdline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/wire"
)

// dialIn runs DialDom0 in an app with the common flags and args.
func dialIn(t *testing.T, args ...string) error {
	t.Helper()
	var dialErr error
	app := &cli.App{
		Name:  "client",
		Flags: []cli.Flag{RunDirFlag, InsecureRunDirFlag},
		Action: func(c *cli.Context) error {
			conn, err := DialDom0(c)
			if err == nil {
				conn.Close()
			}
			dialErr = err
			return nil
		},
	}
	if err := app.Run(append([]string{"client"}, args...)); err != nil {
		t.Fatal(err)
	}
	return dialErr
}

// TestDialRefusesUntrustedRunDir: a run directory others can write to is
// refused with a one-line error naming it and the override; with
// --insecure-run-dir the client connects.
func TestDialRefusesUntrustedRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := wire.Listen(rundir.Path(dir, rundir.Dom0Socket))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			uc, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			uc.Close()
		}
	}()
	if err := dialIn(t, "--run-dir", dir); err != nil {
		t.Fatalf("private run dir: %v", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	err = dialIn(t, "--run-dir", dir)
	if !errors.Is(err, rundir.ErrUntrusted) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "--insecure-run-dir") {
		t.Fatalf("world-writable run dir: %v, want a one-line refusal naming %s and --insecure-run-dir", err, dir)
	}
	if err := dialIn(t, "--run-dir", dir, "--insecure-run-dir"); err != nil {
		t.Fatalf("with --insecure-run-dir: %v", err)
	}
}
