package cmdline

import (
	"fmt"
	"os"

	"github.com/lttng-xen/lttng-xen/internal/rundir"
)

// Share opens the run directory dir and the daemon's socket to the uids of
// --allow-uid, when there are any: the directory becomes searchable by all
// (rundir.SharedPerm, 0711: its entries still cannot be listed) and the
// socket connectable by all (0666). Who is served is still decided by the
// socket's peer-credential check (root, our own uid and the allowed uids),
// not by these modes. Without allowed uids nothing changes: 0700 and 0600.
func Share(allowed []uint32, dir, socket string) error {
	if len(allowed) == 0 {
		return nil
	}
	if err := os.Chmod(dir, rundir.SharedPerm); err != nil {
		return fmt.Errorf("--allow-uid: open the run directory to other users: %w", err)
	}
	if err := os.Chmod(socket, 0o666); err != nil {
		return fmt.Errorf("--allow-uid: open %s to other users: %w", socket, err)
	}
	return nil
}
