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
func DialDom0(c *cli.Context) (*wire.Conn, error) {
	path := rundir.Path(RunDir(c), rundir.Dom0Socket)
	conn, err := wire.Dial(path, 5*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ECONNREFUSED) {
			return nil, fmt.Errorf("dom0 is not running at %s (start it with: dom0 --run-dir %s): %w", path, RunDir(c), err)
		}
		return nil, fmt.Errorf("connect to dom0 at %s: %w", path, err)
	}
	return conn, nil
}
