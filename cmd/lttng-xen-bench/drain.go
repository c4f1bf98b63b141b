package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Consumer bandwidth: two pCPUs each fill a ring of 1 MiB x N/2 and
// lttd-xen consumes one lap of both as the hypervisor writes them, so that
// its mappings are faulted in as in any trace longer than one lap; then it
// is stopped (SIGSTOP) while the hypervisor fills the rings again; the
// trace is stopped and destroyed, and lttd-xen is continued and timed until
// the two stream files hold every delivered packet. The baseline is cp(1)
// of one file of the same total size (made from the first, warm-up run's
// output) in the same directory, timed in the same run just before
// lttd-xen is continued.
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
		// Fresh daemons each time.
		d, err := startDaemons(o, []string{"--cpus", fmt.Sprint(drainCPUs), "--rate", "0"}, nil)
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
	f := Figure{Section: "3. consumer", Name: fmt.Sprintf("lttd-xen write bandwidth, %d MiB delivered by %d pCPUs, writev from the mappings", size>>20, drainCPUs), Unit: "MB/s", Value: stat(lttdMBs)}.
		withBase("cp of a file of the same size, same file system", stat(cpMBs))
	rep.add(f.check("ratio ≥ 0.8", *f.Ratio >= 0.8))
	return nil
}

// drainCPUs is how many pCPUs (rings, stream files) the drain has.
const drainCPUs = 2

// streamBytes is the sum of the sizes of the trace's stream files in dir.
func streamBytes(dir string) int64 {
	var n int64
	for cpu := range drainCPUs {
		if fi, err := os.Stat(filepath.Join(dir, consumer.StreamFile(cpu))); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// drainOnce fills the buffer, then times cp of cpSrc (if set) and the
// drain. Without cpSrc it keeps lttd-xen's output as keep.
func drainOnce(d *daemons, nsub uint64, cpSrc, keep string) (lttdMBs, cpMBs float64, size int64, err error) {
	if err := d.create(1<<20, nsub/drainCPUs); err != nil {
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
		return st.EventsLost > 0 || st.PacketsDelivered-st.PacketsConsumed >= nsub-drainCPUs
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
	// Time from SIGCONT until the stream files hold every delivered packet
	// (checked every 200 µs), not until lttd-xen has exited: unmapping and
	// freeing the buffer is not writing.
	if err := recyclePages(filepath.Dir(keep), int64(nsub)<<20); err != nil {
		return 0, 0, 0, err
	}
	start := streamBytes(out)
	t0 := time.Now()
	if err := lttd.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return 0, 0, 0, err
	}
	var lt time.Duration
	for {
		if streamBytes(out) >= want {
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
	size = streamBytes(out) - start // the drained bytes
	if cpSrc == "" {
		// The cp source: one file of the drained size, the stream files
		// one after the other.
		if err := concatenate(keep, out, size); err != nil {
			return 0, 0, 0, err
		}
	}
	os.RemoveAll(out)
	return float64(size) / lt.Seconds() / 1e6, cpMBs, size, nil
}

// concatenate writes the first size bytes of dir's stream files, one after
// the other, to dst.
func concatenate(dst, dir string, size int64) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	for cpu := range drainCPUs {
		src, err := os.Open(filepath.Join(dir, consumer.StreamFile(cpu)))
		if err != nil {
			return err
		}
		_, err = io.Copy(f, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("cp source: %w", err)
		}
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("cp source: %w", err)
	}
	return f.Close()
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
