// Command lttctl-xen drives a trace session: it asks dom0 (on dom0.sock in the run
// directory) to create, start, stop and destroy the trace, and shows its status.
//
// One subcommand per file: create.go, start.go, stop.go, destroy.go, status.go. The
// connection to dom0 and the translation of its errors are in session.go.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

const name = "lttctl-xen"

// defaultTimeout bounds each request to dom0 (--timeout). A destroy waits for every pCPU
// to be quiescent, which takes far less than this; reaching it means a daemon is stuck.
const defaultTimeout = 60 * time.Second

func main() {
	cmdline.Main(newApp(os.Stdout, os.Stderr))
}

// tool is the state one run of the command shares between its subcommands. It is built
// by [newApp] and used by one goroutine.
type tool struct {
	stdout io.Writer // results (tables, JSON, confirmations) and help
	stderr io.Writer // errors and log lines
	log    *slog.Logger
}

// newApp builds the command with its output on stdout and stderr; run it with
// [cmdline.Run] (or [cmdline.Main]).
func newApp(stdout, stderr io.Writer) *cli.App {
	t := &tool{stdout: stdout, stderr: stderr, log: slog.New(slog.DiscardHandler)}
	return &cli.App{
		Name:      name,
		Usage:     "control an LTTng-for-Xen trace session",
		UsageText: name + " [global options] command [command options]",
		Description: `lttctl-xen sends requests to dom0 (dom0.sock in the run directory), which relays
them to the hypervisor. A session goes: create, start, stop, destroy; lttd-xen
reads the trace into a directory meanwhile. Run "lttctl-xen COMMAND --help" for
each command's options.

Exit status: 0 on success, 1 when an operation fails, 2 for a wrong command line.

EXAMPLES:
   lttctl-xen create --subbuf-size 256KiB --num-subbuf 8
   lttctl-xen start
   lttctl-xen status
   lttctl-xen stop
   lttctl-xen destroy
   lttctl-xen --run-dir /tmp/xen status --json`,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			cmdline.RunDirFlag,
			cmdline.LogLevelFlag,
			&cli.DurationFlag{
				Name:  "timeout",
				Value: defaultTimeout,
				Usage: "give up on a request dom0 has not answered within `DURATION`",
			},
		},
		Before:       t.before,
		Action:       noCommand,
		OnUsageError: usageError,
		Commands: []*cli.Command{
			t.createCommand(),
			t.startCommand(),
			t.stopCommand(),
			t.destroyCommand(),
			t.statusCommand(),
		},
	}
}

// before checks the global flags and sets up logging.
func (t *tool) before(c *cli.Context) error {
	log, err := cmdline.Logger(c, t.stderr, name)
	if err != nil {
		return err
	}
	t.log = log
	if d := c.Duration("timeout"); d <= 0 {
		return cmdline.Usagef("--timeout %s: must be positive", d)
	}
	return nil
}

// noCommand is the action of the bare command: there is nothing to do without a subcommand.
func noCommand(c *cli.Context) error {
	if c.Args().Present() {
		return cmdline.Usagef("unknown command %q (see: %s --help)", c.Args().First(), name)
	}
	return cmdline.Usagef("no command given (see: %s --help)", name)
}

// usageError turns urfave/cli's complaints about flags into usage errors (exit 2), printed
// once by [cmdline.Run], without the help text urfave/cli would otherwise print to stdout.
func usageError(c *cli.Context, err error, isSubcommand bool) error {
	// The flag package names flags with one dash; ours are written with two.
	msg := strings.NewReplacer("flag -", "flag --", "defined: -", "defined: --").Replace(err.Error())
	if isSubcommand {
		msg = c.Command.Name + ": " + msg
	}
	return cmdline.Usagef("%s (see: %s --help)", msg, c.Command.HelpName)
}

// command fills in what every subcommand shares.
func command(cmd *cli.Command) *cli.Command {
	cmd.OnUsageError = usageError
	cmd.HideHelpCommand = true
	return cmd
}

// noArgs rejects positional arguments, which no subcommand takes yet.
func noArgs(c *cli.Context) error {
	if c.Args().Present() {
		return cmdline.Usagef("%s: unexpected argument %q (see: %s --help)",
			c.Command.Name, c.Args().First(), c.Command.HelpName)
	}
	return nil
}

// printf writes a result line to stdout.
func (t *tool) printf(format string, args ...any) {
	fmt.Fprintf(t.stdout, format, args...)
}
