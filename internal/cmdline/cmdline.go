// Package cmdline holds what every lttng-xen command shares on its command
// line: the version, the run-directory and log-level flags, the logger,
// size flags with units, and the exit-code convention.
package cmdline

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/internal/size"
)

// Version of every lttng-xen command.
const Version = "0.1.0"

// RunDirFlag is --run-dir, shared by every command that talks to a daemon.
var RunDirFlag = &cli.StringFlag{
	Name:  "run-dir",
	Usage: "directory of the daemons' sockets (default: $" + rundir.EnvVar + ", else $XDG_RUNTIME_DIR/lttng-xen, else /tmp/lttng-xen-$UID)",
}

// InsecureRunDirFlag is --insecure-run-dir, for the clients (lttctl-xen,
// lttd-xen): use a run directory or socket that [rundir.Trusted] refuses.
var InsecureRunDirFlag = &cli.BoolFlag{
	Name:  "insecure-run-dir",
	Usage: "connect even if the run directory or dom0.sock is owned by another user or writable by others",
}

// LogLevelFlag is --log-level.
var LogLevelFlag = &cli.StringFlag{
	Name:  "log-level",
	Value: "info",
	Usage: "log verbosity: debug, info, warn or error",
}

// RunDir resolves the run directory from the command's flags.
func RunDir(c *cli.Context) string { return rundir.Resolve(c.String(RunDirFlag.Name)) }

// Logger returns a text logger on w at the --log-level of c.
func Logger(c *cli.Context, w io.Writer, name string) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String(LogLevelFlag.Name))); err != nil {
		return nil, Usagef("--log-level %q: want debug, info, warn or error", c.String(LogLevelFlag.Name))
	}
	if c.Bool(VerboseFlag.Name) {
		level = slog.LevelDebug
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("cmd", name), nil
}

// Size reads a size flag (64KiB, 1MiB, 4096), naming the flag on error.
func Size(c *cli.Context, flag string) (uint64, error) {
	v, err := size.Parse(c.String(flag))
	if err != nil {
		return 0, Usagef("--%s: %v", flag, err)
	}
	return v, nil
}

// UsageError is a mistake on the command line: exit code 2.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// Usagef makes a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{msg: fmt.Sprintf(format, args...)} }

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the operation failed
	ExitUsage = 2 // the command line is wrong
)

// Run runs app with args and returns the process exit code, printing the
// error (if any) as "NAME: error" on stderr.
func Run(app *cli.App, args []string) int {
	app.Version = Version
	app.EnableBashCompletion = true
	withVerbose(app)
	app.ExitErrHandler = func(*cli.Context, error) {} // we print and exit ourselves
	err := app.Run(args)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(app.ErrWriter, "%s: %s\n", app.Name, strings.TrimSpace(err.Error()))
	var ue *UsageError
	var ec cli.ExitCoder
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ec):
		return ec.ExitCode()
	case isFlagError(err):
		return ExitUsage
	}
	return ExitError
}

// isFlagError recognises urfave/cli's own command-line complaints.
func isFlagError(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "flag provided but not defined") ||
		strings.HasPrefix(s, "invalid value") ||
		strings.Contains(s, "Required flag") ||
		strings.HasPrefix(s, "No help topic")
}

// Main is Run with os.Args and os.Exit.
func Main(app *cli.App) {
	if app.ErrWriter == nil {
		app.ErrWriter = os.Stderr
	}
	os.Exit(Run(app, os.Args))
}
