package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// Consumer bandwidth: lttd-xen consumes one lap of a large buffer (1 MiB
// x N) as the hypervisor writes it, so that its mapping of the buffer is
// faulted in as in any trace longer than one lap; then it is stopped
// (SIGSTOP) while the hypervisor fills the buffer again; the trace is
// stopped and destroyed, and lttd-xen is continued and timed until the
// stream file holds every delivered packet. The baseline is cp(1) of a file of the same size (the first,
// warm-up run's output) in the same directory, timed in the same run just
// before lttd-xen is continued.
//
// Both write new files, so both allocate new page-cache pages. On a VM
// whose free memory goes back to the host (free page reporting), a page
// the guest has not touched lately costs a host fault on first write:
// writing into such pages runs at ~0.4-0.8 GB/s here, into pages freed a
// moment ago at 3-5 GB/s, whatever writes them. So right before each timed
// copy the bench writes and deletes a scratch file of the same size: both
// then write into pages freed a moment ago.

func consumerFigures(o *options, rep *Report) error {
	reps, nsub := 4, uint64(256)
	if o.quick {
		reps, nsub = 2, 64
	}
	dir, err := os.MkdirTemp(o.work, "drain.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "cp-source")
	var lttdMBs, cpMBs []float64
	var size int64
	for i := range reps + 1 {
		// Fresh daemons each time; 4 pCPUs fill the buffer, each writing
		// well under the ~10 M events after which the workload's domain
		// counter wraps (see docs/PERFORMANCE.md, "hypervisor patch").
		d, err := startDaemons(o, []string{"--cpus", "4", "--rate", "0"}, nil)
		if err != nil {
			return err
		}
		cp := src
		if i == 0 {
			cp = "" // warm-up: its output becomes the cp source
		}
		l, c, n, err := drainOnce(d, nsub, cp, src)
		err = d.withLogs(err)
		d.close()
		if err != nil {
			return err
		}
		if i > 0 {
			lttdMBs, cpMBs, size = append(lttdMBs, l), append(cpMBs, c), n
		}
	}
	f := Figure{Section: "3. consumer", Name: fmt.Sprintf("lttd-xen write bandwidth, %d MiB delivered, writev from the mapping", size>>20), Unit: "MB/s", Value: stat(lttdMBs)}.
		withBase("cp of a file of the same size, same file system", stat(cpMBs))
	rep.add(f.check("ratio ≥ 0.8", *f.Ratio >= 0.8))
	return nil
}

// drainOnce fills the buffer, then times cp of cpSrc (if set) and the
// drain. Without cpSrc it keeps lttd-xen's output as keep.
func drainOnce(d *daemons, nsub uint64, cpSrc, keep string) (lttdMBs, cpMBs float64, size int64, err error) {
	if err := d.create(1<<20, nsub); err != nil {
		return 0, 0, 0, err
	}
	out := filepath.Join(d.dir, "drain")
	lttd, err := d.lttd(out)
	if err != nil {
		return 0, 0, 0, err
	}
	defer lttd.stop()
	if err := d.op(wire.OpStart); err != nil {
		return 0, 0, 0, err
	}
	// waitFor polls the status until done says so.
	waitFor := func(what string, done func(*wire.Status) bool) error {
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, err := d.status()
			if err != nil {
				return err
			}
			if done(st) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: not within 60 s (%d packets delivered, %d consumed)", what, st.PacketsDelivered, st.PacketsConsumed)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := waitFor("one lap consumed", func(st *wire.Status) bool { return st.PacketsConsumed >= nsub }); err != nil {
		return 0, 0, 0, err
	}
	if err := lttd.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return 0, 0, 0, err
	}
	if err := waitFor("buffer refilled", func(st *wire.Status) bool {
		return st.EventsLost > 0 || st.PacketsDelivered-st.PacketsConsumed >= nsub-1
	}); err != nil {
		return 0, 0, 0, err
	}
	if err := d.op(wire.OpStop); err != nil {
		return 0, 0, 0, err
	}
	st, err := d.status()
	if err != nil {
		return 0, 0, 0, err
	}
	want := int64(st.PacketsDelivered) << 20 // every delivered packet, 1 MiB each
	if err := d.op(wire.OpDestroy); err != nil {
		return 0, 0, 0, err
	}
	if cpSrc != "" {
		dst := cpSrc + ".copy"
		if err := recyclePages(filepath.Dir(cpSrc), int64(nsub)<<20); err != nil {
			return 0, 0, 0, err
		}
		t0 := time.Now()
		if b, err := exec.Command("cp", cpSrc, dst).CombinedOutput(); err != nil {
			return 0, 0, 0, fmt.Errorf("cp: %v: %s", err, b)
		}
		ct := time.Since(t0)
		fi, err := os.Stat(dst)
		if err != nil {
			return 0, 0, 0, err
		}
		cpMBs = float64(fi.Size()) / ct.Seconds() / 1e6
		os.Remove(dst)
	}
	// Time from SIGCONT until the stream file holds every delivered packet
	// (checked every 200 µs), not until lttd-xen has exited: unmapping and
	// freeing the buffer is not writing.
	stream := filepath.Join(out, "channel0_0")
	if err := recyclePages(filepath.Dir(keep), int64(nsub)<<20); err != nil {
		return 0, 0, 0, err
	}
	var start int64
	if fi, err := os.Stat(stream); err == nil {
		start = fi.Size()
	}
	t0 := time.Now()
	if err := lttd.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return 0, 0, 0, err
	}
	var lt time.Duration
	for {
		if fi, err := os.Stat(stream); err == nil && fi.Size() >= want {
			lt = time.Since(t0)
			break
		}
		if time.Since(t0) > 60*time.Second {
			return 0, 0, 0, fmt.Errorf("lttd-xen wrote less than %d bytes in 60 s", want)
		}
		time.Sleep(200 * time.Microsecond)
	}
	if err := lttd.wait(60 * time.Second); err != nil {
		return 0, 0, 0, err
	}
	fi, err := os.Stat(stream)
	if err != nil {
		return 0, 0, 0, err
	}
	size = fi.Size() - start // the drained bytes
	if cpSrc == "" {
		// The cp source: a file of the drained size.
		if err := os.Truncate(stream, size); err != nil {
			return 0, 0, 0, err
		}
		if err := os.Rename(stream, keep); err != nil {
			return 0, 0, 0, err
		}
	}
	os.RemoveAll(out)
	return float64(size) / lt.Seconds() / 1e6, cpMBs, size, nil
}

// recyclePages writes and deletes a file of size bytes in dir, leaving
// that many just-freed pages for the next writer (see above).
func recyclePages(dir string, size int64) error {
	f, err := os.CreateTemp(dir, "recycle.")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("recycle pages: %w", err)
		}
	}
	return nil
}
