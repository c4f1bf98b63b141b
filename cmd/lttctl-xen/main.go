// Command lttctl-xen drives a trace session: it asks dom0 (on dom0.sock in the run
// directory) to create, start, stop and destroy the trace, shows its status, manages the
// event types (add, list, enable, disable, emit) and brings pCPUs up and down.
//
// One subcommand per file: create.go, start.go, stop.go, destroy.go, status.go (and
// status_watch.go for --watch), event_add.go, event_list.go, emit.go, enable_event.go,
// disable_event.go, cpu_online.go, cpu_offline.go; event.go and cpu.go hold the parent
// commands. The connection to dom0 and the translation of its errors are in session.go.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
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
	os.Exit(runCommand(newApp(os.Stdout, os.Stderr), os.Args))
}

// tool is the state one run of the command shares between its subcommands. It is built
// by [newTool] and used by one goroutine.
type tool struct {
	stdout io.Writer // results (tables, JSON, confirmations) and help
	stderr io.Writer // errors and log lines
	log    *slog.Logger

	// signals returns a context cancelled when the user asks a long-running subcommand
	// (status --watch) to end: [cmdline.ShutdownSignals]; tests replace it.
	signals func() (context.Context, context.CancelFunc)
	// terminal reports whether w is a terminal, to redraw in place there (status --watch);
	// tests replace it.
	terminal func(w io.Writer) bool
	// now is the clock of automatic session names (create) and of start --duration;
	// home returns $HOME, for the default output directory. Tests replace them.
	now  func() time.Time
	home func() (string, error)
	// sleep waits d or until ctx ends (start --duration); tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// newApp builds the command with its output on stdout and stderr; run it with
// [cmdline.Run] (or [cmdline.Main]).
func newApp(stdout, stderr io.Writer) *cli.App { return newTool(stdout, stderr).app() }

// newTool returns the tool behind [newApp], for tests that replace its hooks.
func newTool(stdout, stderr io.Writer) *tool {
	return &tool{
		stdout:   stdout,
		stderr:   stderr,
		log:      slog.New(slog.DiscardHandler),
		signals:  cmdline.ShutdownSignals,
		terminal: isTerminal,
		now:      time.Now,
		home:     os.UserHomeDir,
		sleep:    sleepCtx,
	}
}

// app builds the command around t.
func (t *tool) app() *cli.App {
	return &cli.App{
		Name:      name,
		Usage:     "control an LTTng-for-Xen trace session",
		UsageText: name + " [global options] command [command options]",
		Description: `lttctl-xen sends requests to dom0 (dom0.sock in the run directory), which relays
them to the hypervisor. A session goes: create, start, stop, destroy, as with
lttng(1); the lttd-xen dom0 starts for it writes the trace to its output
directory meanwhile, and destroy returns once the trace is on disk. In
overwrite mode (create --overwrite, the flight recorder) there is no consumer:
"snapshot" writes the newest data on demand. Event types can be added, listed,
enabled, disabled and emitted at any time, pCPUs brought up and down. Run
"lttctl-xen COMMAND --help" for each command's options.

Exit status: 0 on success, 1 when an operation fails, 2 for a wrong command line.

EXAMPLES:
   lttctl-xen create demo --output demo-trace --subbuf-size 256KiB --num-subbuf 8
   lttctl-xen start
   lttctl-xen status
   lttctl-xen event add 'net_rx(u32 len, string dev)'
   lttctl-xen emit --cpu 1 net_rx len=1500 dev=eth0
   lttctl-xen stop
   lttctl-xen destroy
   lttv-xen stats demo-trace
   lttctl-xen list
   lttctl-xen status --watch
   lttctl-xen create --overwrite && lttctl-xen start && lttctl-xen snapshot --output snap && lttctl-xen destroy`,
		Writer:    t.stdout,
		ErrWriter: t.stderr,
		Flags: []cli.Flag{
			cmdline.RunDirFlag,
			cmdline.InsecureRunDirFlag,
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
			t.listCommand(),
			t.eventCommand(),
			t.emitCommand(),
			t.enableEventCommand(),
			t.disableEventCommand(),
			t.cpuCommand(),
			t.snapshotCommand(),
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
		return cmdline.UnknownCommand(name, c.Args().First(), c.App.Commands)
	}
	return cmdline.Usagef("no command given (see: %s --help)", name)
}

// usageError turns urfave/cli's complaints about flags into usage errors (exit 2), printed
// once by [cmdline.Run], without the help text urfave/cli would otherwise print to stdout.
func usageError(c *cli.Context, err error, isSubcommand bool) error {
	// The flag package names flags with one dash; ours are written with two (but "-1" is
	// a negative number, not a flag).
	msg := flagDash.ReplaceAllString(err.Error(), "$1--$2")
	if isSubcommand {
		msg = commandPath(c) + ": " + msg
	}
	return cmdline.Usagef("%s (see: %s --help)", msg, c.Command.HelpName)
}

// flagDash finds a flag named with one dash in the flag package's messages.
var flagDash = regexp.MustCompile(`(flag |defined: |argument: )-([^-0-9])`)

// commandPath names the running subcommand as typed, parents included: "status",
// "event add".
func commandPath(c *cli.Context) string {
	return strings.TrimPrefix(c.Command.HelpName, name+" ")
}

// command fills in what every subcommand shares.
func command(cmd *cli.Command) *cli.Command {
	cmd.OnUsageError = usageError
	cmd.HideHelpCommand = true
	return cmd
}

// noArgs rejects positional arguments, for the subcommands that take none.
func noArgs(c *cli.Context) error {
	if c.Args().Present() {
		return usagef(c, "unexpected argument %q", c.Args().First())
	}
	return nil
}

// usagef makes a usage error about the running subcommand: "event add: MESSAGE (see:
// lttctl-xen event add --help)".
func usagef(c *cli.Context, format string, args ...any) error {
	return cmdline.Usagef("%s: %s (see: %s --help)", commandPath(c), fmt.Sprintf(format, args...), c.Command.HelpName)
}

// noFlagArgs rejects a positional argument that looks like a flag: urfave/cli stops
// reading flags at the first argument, so "emit NAME --cpu 1" would pass "--cpu" as a field.
// No argument of ours starts with '-' (names are identifiers).
func noFlagArgs(c *cli.Context) error {
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return usagef(c, "%q after the arguments: flags go before them", a)
		}
	}
	return nil
}

// warnf writes a warning line to stderr: "lttctl-xen: warning: ...".
func (t *tool) warnf(format string, args ...any) {
	fmt.Fprintf(t.stderr, "%s: warning: %s\n", name, fmt.Sprintf(format, args...))
}

// printf writes a result line to stdout.
func (t *tool) printf(format string, args ...any) {
	fmt.Fprintf(t.stdout, format, args...)
}

// parentHelpTemplate is urfave/cli's help of a command with subcommands, listing them from
// the command itself: its own template lists them by category, which "help event" has not
// computed (they are computed when the command runs), and would add a "help" subcommand.
var parentHelpTemplate = strings.Replace(cli.SubcommandHelpTemplate,
	`{{template "visibleCommandCategoryTemplate" .}}`,
	`{{range .VisibleCommands}}{{if ne .Name "help"}}
   {{.Name}}{{"\t"}}{{.Usage}}{{end}}{{end}}`, 1)

// parentCommand fills in what a command with subcommands (event, cpu) shares: a help that
// lists them, and without a known subcommand, a usage error naming them.
func parentCommand(cmd *cli.Command) *cli.Command {
	cmd.CustomHelpTemplate = parentHelpTemplate
	cmd.Action = func(c *cli.Context) error {
		var names []string
		for _, sub := range c.Command.Subcommands {
			if !sub.Hidden && sub.Name != "help" {
				names = append(names, sub.Name)
			}
		}
		list := strings.Join(names, " or ")
		if c.Args().Present() {
			if s := cmdline.Closest(c.Args().First(), names); s != "" {
				return usagef(c, "unknown subcommand %q: did you mean %q?", c.Args().First(), s)
			}
			return usagef(c, "unknown subcommand %q (want %s)", c.Args().First(), list)
		}
		return usagef(c, "no subcommand given (want %s)", list)
	}
	return command(cmd)
}
