package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// proc is a daemon the bench started: its stderr goes to a log file that
// is scanned for its ready line.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startProc starts bin/name with args, environment env added, and waits
// (at most 30 s) until its log shows ready.
func startProc(o *options, dir, name string, env []string, ready string, args ...string) (*proc, error) {
	log := name
	if name == "chrt" {
		log = filepath.Base(args[len(args)-1])
		for _, a := range args {
			if filepath.IsAbs(a) {
				log = filepath.Base(a)
			}
		}
	}
	p := &proc{name: log, log: filepath.Join(dir, log+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	path := filepath.Join(o.bin, name)
	if name == "chrt" {
		path = name // a wrapper from $PATH; args name the command
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	if err := p.waitLog(ready, 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// waitLog waits until the log holds line.
func (p *proc) waitLog(line string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(p.log)
		if bytes.Contains(b, []byte(line)) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before %q: %s", p.name, line, tail(b))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not log %q within %v", p.name, line, timeout)
		}
	}
}

// wait waits at most timeout for the process to exit.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			b, _ := os.ReadFile(p.log)
			return fmt.Errorf("%s: %v: %s", p.name, p.cmd.ProcessState, tail(b))
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s did not exit within %v", p.name, timeout)
	}
}

// stop sends SIGTERM (SIGCONT first, in case it was stopped), then
// SIGKILL after 5 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func tail(b []byte) string {
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return string(bytes.TrimSpace(b))
}

// daemons is a hypervisor and a dom0 in a private run directory.
type daemons struct {
	o   *options
	dir string
	env []string
	hv  *proc
	d0  *proc
}

// startDaemons starts the hypervisor with hvArgs and dom0 with d0Args.
//
// With rt set (an optional last argument), both run at SCHED_FIFO 1
// (started through chrt -f 1).
func startDaemons(o *options, hvArgs, d0Args []string, rt ...bool) (d *daemons, err error) {
	dir, err := os.MkdirTemp(o.work, "run.")
	if err != nil {
		return nil, err
	}
	d = &daemons{o: o, dir: dir, env: []string{"LTTNG_XEN_RUN_DIR=" + filepath.Join(dir, "sock")}}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	hvArgs = append(hvArgs, o.hvArgs...)
	hv, d0 := "hypervisor", "dom0"
	if len(rt) > 0 && rt[0] {
		hv, hvArgs = "chrt", append([]string{"-f", "1", filepath.Join(o.bin, "hypervisor")}, hvArgs...)
		d0, d0Args = "chrt", append([]string{"-f", "1", filepath.Join(o.bin, "dom0")}, d0Args...)
	}
	if d.hv, err = startProc(o, dir, hv, d.env, "hypervisor ready", hvArgs...); err != nil {
		return nil, err
	}
	if d.d0, err = startProc(o, dir, d0, d.env, "bound VIRQ_TBUF", d0Args...); err != nil {
		return nil, err
	}
	return d, nil
}

// call makes one request to dom0 on a fresh connection (dom0 closes idle
// tool connections, so none is kept).
func (d *daemons) call(req *wire.Request) (*wire.Reply, error) {
	c, err := d.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	rep, files, err := c.Call(req)
	for _, f := range files {
		f.Close()
	}
	return rep, err
}

func (d *daemons) dial() (*wire.Conn, error) {
	return wire.Dial(filepath.Join(d.dir, "sock", "dom0.sock"), 5*time.Second)
}

func (d *daemons) create(subbuf, n uint64) error {
	_, err := d.call(&wire.Request{Op: wire.OpCreate, Create: &wire.CreateArgs{SubbufSize: subbuf, NumSubbuf: n, Mode: wire.Mode("discard")}})
	return err
}

func (d *daemons) op(op wire.Op) error {
	_, err := d.call(&wire.Request{Op: op})
	return err
}

func (d *daemons) status() (*wire.Status, error) {
	rep, err := d.call(&wire.Request{Op: wire.OpStatus})
	if err != nil {
		return nil, err
	}
	if rep.Status == nil {
		return nil, errors.New("status: empty reply")
	}
	return rep.Status, nil
}

// lttd starts lttd-xen writing to out and waits until it consumes.
func (d *daemons) lttd(out string) (*proc, error) {
	return startProc(d.o, d.dir, "lttd-xen", d.env, "consuming", "--output", out, "--force")
}

// withLogs wraps err with the tails of the daemons' logs.
func (d *daemons) withLogs(err error) error {
	if err == nil {
		return nil
	}
	var b strings.Builder
	for _, p := range []*proc{d.hv, d.d0} {
		if p == nil {
			continue
		}
		log, _ := os.ReadFile(p.log)
		fmt.Fprintf(&b, "\n--- %s log:\n%s", p.name, tail(log))
	}
	return fmt.Errorf("%w%s", err, b.String())
}

func (d *daemons) close() {
	if d.d0 != nil {
		d.d0.stop()
	}
	if d.hv != nil {
		d.hv.stop()
	}
	os.RemoveAll(d.dir)
}
