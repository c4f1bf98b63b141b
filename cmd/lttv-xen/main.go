// Command lttv-xen reads lttng-xen traces: the CTF 1.8 directories lttd-xen
// writes (DIR/metadata and the stream files DIR/channel0_<cpu>, one per
// pCPU, read together and merged by timestamp). It prints the events
// (dump), counts them (stats), validates every packet and record (check),
// sums up what ran where (summary), draws it (timeline) and converts it
// for Perfetto (export). The decoding and every check are the record
// package's; the analyses are the analysis package's.
//
// One subcommand per file: dump.go, stats.go, check.go, summary.go,
// timeline.go, export.go; dump --follow is follow.go, over the inotify
// watcher of watch_linux.go. Opening a trace directory and reading its
// streams is in trace.go, the window and replay the analyses share in
// analyse.go, the report of what --salvage skipped in salvage.go,
// timestamp formatting in clock.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

const name = "lttv-xen"

func main() {
	// A reader piped into head(1) must stop quietly, not die of SIGPIPE
	// (scripts run with "set -o pipefail"): with SIGPIPE ignored, writes
	// to the closed pipe return EPIPE, which the subcommands take as the end
	// of their output (see [outputError]).
	signal.Ignore(syscall.SIGPIPE)
	cmdline.Main(newApp(os.Stdout, os.Stderr))
}

// tool is the state one run of the command shares between its subcommands.
// It is built by [newApp] and used by one goroutine.
type tool struct {
	stdout io.Writer // results; help goes to the App's Writer, errors to its ErrWriter
	stderr io.Writer // warnings (--salvage); the error that ends a run is cmdline.Run's to print
	// ctx ends a long-running subcommand (dump --follow) when cancelled,
	// as SIGINT and SIGTERM do.
	ctx context.Context
}

// newApp builds the command with its output on stdout and stderr; run it with
// [cmdline.Run] (or [cmdline.Main]).
func newApp(stdout, stderr io.Writer) *cli.App {
	return newAppContext(context.Background(), stdout, stderr)
}

// newAppContext is [newApp] with a context whose cancellation stops dump
// --follow like a signal does (tests use it in place of SIGINT).
func newAppContext(ctx context.Context, stdout, stderr io.Writer) *cli.App {
	t := &tool{stdout: stdout, stderr: stderr, ctx: ctx}
	return &cli.App{
		Name:      name,
		Usage:     "read an LTTng-for-Xen trace: print, check, sum up and draw its events",
		UsageText: name + " [global options] command [command options] DIR",
		Description: `lttv-xen reads a trace directory as lttd-xen writes it: DIR/metadata (CTF 1.8
TSDL, which declares the event types) and the stream files DIR/channel0_<cpu>,
one per pCPU, whose packets are the trace's sub-buffers; the streams are read
together and their events merged by timestamp. Every packet and record is checked
as it is decoded; a decoding error names the file and the byte offset of the
bad field. Run "lttv-xen COMMAND --help" for each command's options and output.

A damaged trace (a truncated file, a packet overwritten, foreign bytes in a
stream) stops every command at the damage; with --salvage, dump, stats,
summary, timeline and export skip it and go on from the next valid packet,
saying on stderr what they skipped, and check lists what they would skip. "dump --follow" prints a trace
as it is being written, like tail -f.

Exit status: 0 on success, 1 when the trace cannot be read or is corrupt
(with --salvage: when nothing could be recovered; check --salvage: when
anything would be skipped), 2 for a wrong command line.

EXAMPLES:
   lttv-xen dump /tmp/trace | less
   lttv-xen dump --raw /tmp/trace | grep page_fault
   lttv-xen dump --follow /tmp/trace
   lttv-xen stats /tmp/trace
   lttv-xen stats --json /tmp/trace | jq .events_lost
   lttv-xen check /tmp/trace
   lttv-xen check --salvage /tmp/trace || lttv-xen dump --salvage /tmp/trace > events.txt
   lttv-xen summary /tmp/trace
   lttv-xen timeline /tmp/trace --output /tmp/trace.html
   lttv-xen export --format chrome /tmp/trace --output /tmp/trace.json`,
		Writer:       stdout,
		ErrWriter:    stderr,
		Action:       noCommand,
		OnUsageError: usageError,
		Commands: []*cli.Command{
			t.dumpCommand(),
			t.statsCommand(),
			t.checkCommand(),
			t.summaryCommand(),
			t.timelineCommand(),
			t.exportCommand(),
		},
	}
}

// noCommand is the action of the bare command: there is nothing to do
// without a subcommand.
func noCommand(c *cli.Context) error {
	if c.Args().Present() {
		return cmdline.UnknownCommand(name, c.Args().First(), c.App.Commands)
	}
	return cmdline.Usagef("no command given (see: %s --help)", name)
}

// usageError turns urfave/cli's complaints about flags into usage errors
// (exit 2), printed once by [cmdline.Run], without the help text urfave/cli
// would otherwise print to stdout.
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

// errHelpShown is returned by [dirArg] when a --help after DIR printed the
// command's help: the action has nothing more to do.
var errHelpShown = errors.New("help shown")

// dirArg returns the one positional argument of a subcommand, the trace
// directory. urfave/cli stops parsing flags at the first argument, but
// "lttv-xen stats DIR --json" is how people type it: the flags after DIR
// are set here, a boolean one alone or with =VALUE, another one with
// =VALUE or the next argument as its value (a directory whose name starts
// with '-' is given as ./-name).
func dirArg(c *cli.Context) (string, error) {
	var dirs []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			dirs = append(dirs, a)
			continue
		}
		flag, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if flag == "h" || flag == "help" {
			if err := cli.ShowSubcommandHelp(c); err != nil {
				return "", err
			}
			return "", errHelpShown
		}
		f := findFlag(c.Command, flag)
		if f == nil {
			return "", cmdline.Usagef("%s: flag provided but not defined: %s (see: %s --help)", c.Command.Name, a, c.Command.HelpName)
		}
		if _, isBool := f.(*cli.BoolFlag); !hasVal && isBool {
			val = "true"
		} else if !hasVal {
			if i+1 == len(args) {
				return "", cmdline.Usagef("%s: flag needs an argument: %s (see: %s --help)", c.Command.Name, a, c.Command.HelpName)
			}
			i++
			val = args[i]
		}
		if err := c.Set(flag, val); err != nil {
			return "", cmdline.Usagef("%s: %s: %v (see: %s --help)", c.Command.Name, a, err, c.Command.HelpName)
		}
	}
	switch len(dirs) {
	case 0:
		return "", cmdline.Usagef("%s: missing trace directory DIR (see: %s --help)", c.Command.Name, c.Command.HelpName)
	case 1:
		return dirs[0], nil
	}
	return "", cmdline.Usagef("%s: unexpected argument %q after DIR %q (see: %s --help)", c.Command.Name, dirs[1], dirs[0], c.Command.HelpName)
}

// findFlag returns cmd's flag called name, or nil.
func findFlag(cmd *cli.Command, name string) cli.Flag {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// action wraps a subcommand's action: it reads DIR (see [dirArg]) and maps
// a broken output pipe to success (see [outputError]).
func action(run func(c *cli.Context, dir string) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		dir, err := dirArg(c)
		if errors.Is(err, errHelpShown) {
			return nil
		}
		if err != nil {
			return err
		}
		return outputError(run(c, dir))
	}
}

// outputError returns nil for a write to a closed pipe (the reader, say
// head(1), has seen enough: stop quietly, exit 0), else err.
func outputError(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// writeError wraps a failure to write the results.
func writeError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("write output: %w", err)
}
