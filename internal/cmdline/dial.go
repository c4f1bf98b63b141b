package cmdline

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/wire"
)

// DialDom0 connects to dom0's tools socket in the run directory of c,
// with an error that tells the user what to start when nothing answers.
//
// Unless --insecure-run-dir is given (a command without that flag never
// overrides), the run directory and the socket must pass [rundir.Trusted]
// and [rundir.TrustedSocket]: whoever controls them could answer in dom0's
// place.
func DialDom0(c *cli.Context) (*wire.Conn, error) {
	path := rundir.Path(RunDir(c), rundir.Dom0Socket)
	if !c.Bool(InsecureRunDirFlag.Name) {
		err := rundir.Trusted(RunDir(c))
		if err == nil {
			err = rundir.TrustedSocket(path)
		}
		if err != nil {
			return nil, fmt.Errorf("refusing to connect: %w (fix the owner or mode, or pass --%s)", err, InsecureRunDirFlag.Name)
		}
	}
	conn, err := wire.Dial(path, 5*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ECONNREFUSED) {
			return nil, fmt.Errorf("dom0 is not running at %s (start it with: dom0 --run-dir %s): %w", path, RunDir(c), err)
		}
		return nil, fmt.Errorf("connect to dom0 at %s: %w", path, err)
	}
	return conn, nil
}

// Denied adds to a refusal of our uid by a daemon (an error matching
// [wire.ErrDenied]) the fix, on the same line: the daemons' --allow-uid,
// and the modes of the run directory runDir and of dom0.sock, which keep
// other uids out by default (0700 and 0600). Other errors are returned as
// they are.
func Denied(err error, runDir string) error {
	if !errors.Is(err, wire.ErrDenied) {
		return err
	}
	uid := os.Geteuid()
	return fmt.Errorf("%w; to let uid %d in, start the hypervisor and dom0 with --allow-uid %d, and let it reach the socket: chmod 0711 %s; chmod 0666 %s",
		err, uid, uid, runDir, rundir.Path(runDir, rundir.Dom0Socket))
}
