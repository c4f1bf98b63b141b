package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// wantLine formats w's dump line independently of dump: time.Format for
// the time and record.Value.Format for the fields.
func wantLine(w written, raw bool) string {
	var s strings.Builder
	if raw {
		s.WriteString(strconv.FormatUint(w.ts, 10))
	} else {
		s.WriteString(time.Unix(testOffsetSec, testOffsetNS+int64(w.ts)).UTC().Format(timeLayout))
	}
	fmt.Fprintf(&s, " cpu%d %s", w.cpu, w.e.Name)
	for i, f := range w.e.Fields {
		v := w.vals[i].Format(f.Type)
		switch {
		case raw:
		case f.Name == "addr" || f.Name == "vector":
			v = fmt.Sprintf("%#x", w.vals[i].U)
		case f.Name == "op":
			v = fmt.Sprintf("%d(%s)", w.vals[i].U, wantOpNames[w.vals[i].U])
		}
		fmt.Fprintf(&s, " %s=%s", f.Name, v)
	}
	s.WriteByte('\n')
	return s.String()
}

// wantOpNames are Xen's hypercall names (xen/include/public/xen.h) of
// the ops the test traces use, 0-39, spelt out here apart from dump's.
var wantOpNames = map[uint64]string{
	0: "set_trap_table", 1: "mmu_update", 2: "set_gdt", 3: "stack_switch", 4: "set_callbacks", 5: "fpu_taskswitch",
	6: "sched_op_compat", 7: "platform_op", 8: "set_debugreg", 9: "get_debugreg", 10: "update_descriptor", 11: "hypercall_11",
	12: "memory_op", 13: "multicall", 14: "update_va_mapping", 15: "set_timer_op", 16: "event_channel_op_compat",
	17: "xen_version", 18: "console_io", 19: "physdev_op_compat", 20: "grant_table_op", 21: "vm_assist",
	22: "update_va_mapping_otherdomain", 23: "iret", 24: "vcpu_op", 25: "set_segment_base", 26: "mmuext_op",
	27: "xsm_op", 28: "nmi_op", 29: "sched_op", 30: "callback_op", 31: "xenoprof_op", 32: "event_channel_op",
	33: "physdev_op", 34: "hvm_op", 35: "sysctl", 36: "domctl", 37: "kexec_op", 38: "tmem_op", 39: "argo_op",
}

// wantDump is the dump of recs.
func wantDump(recs []written, raw bool) string {
	var s strings.Builder
	for _, w := range recs {
		s.WriteString(wantLine(w, raw))
	}
	return s.String()
}

func TestDumpGolden(t *testing.T) {
	b := newTraceBuilder(t)
	b.add("sched_switch", 2, record.Uint(1), record.Uint(2), record.Int(-1), record.Uint(3), record.Uint(4))
	b.add("printk", 0, record.Str("hi \"there\"\n"))
	b.add("blob", 3, record.Blob([]byte{0, 0xff}), record.Int(-2), record.Str("x"))
	b.add("blob", 3, record.Blob(nil), record.Int(0), record.Str(""))
	b.add("cpu_online", 1, record.Uint(7))
	b.add("page_fault", 1, record.Uint(1), record.Uint(0), record.Uint(0xffff800000001000), record.Uint(6))
	b.add("irq_entry", 1, record.Uint(40), record.Uint(0x48))
	b.add("hypercall_entry", 1, record.Uint(29), record.Uint(0))
	b.add("hypercall_exit", 1, record.Uint(48), record.Int(-22))
	b.add("hypercall_exit", 1, record.Uint(11), record.Int(0))
	dir := b.write()

	r := run(t, "dump", dir)
	r.wantOK(t)
	want := `2023-11-14T22:13:20.123457799Z cpu2 sched_switch prev_dom=1 prev_vcpu=2 prev_state=-1 next_dom=3 next_vcpu=4
2023-11-14T22:13:20.123457809Z cpu0 printk msg="hi \"there\"\n"
2023-11-14T22:13:20.123457819Z cpu3 blob data=00ff small=-2 note="x"
2023-11-14T22:13:20.123457829Z cpu3 blob data= small=0 note=""
2023-11-14T22:13:20.123457839Z cpu1 cpu_online cpu=7
2023-11-14T22:13:20.123457849Z cpu1 page_fault dom=1 vcpu=0 addr=0xffff800000001000 error_code=6
2023-11-14T22:13:20.123457859Z cpu1 irq_entry irq=40 vector=0x48
2023-11-14T22:13:20.123457869Z cpu1 hypercall_entry op=29(sched_op) vcpu=0
2023-11-14T22:13:20.123457879Z cpu1 hypercall_exit op=48(arch_0) ret=-22
2023-11-14T22:13:20.123457889Z cpu1 hypercall_exit op=11(hypercall_11) ret=0
`
	if r.stdout != want {
		t.Errorf("dump printed\n%s\nwant\n%s", r.stdout, want)
	}

	r = run(t, "dump", "--raw", dir)
	r.wantOK(t)
	want = `1010 cpu2 sched_switch prev_dom=1 prev_vcpu=2 prev_state=-1 next_dom=3 next_vcpu=4
1020 cpu0 printk msg="hi \"there\"\n"
1030 cpu3 blob data=00ff small=-2 note="x"
1040 cpu3 blob data= small=0 note=""
1050 cpu1 cpu_online cpu=7
1060 cpu1 page_fault dom=1 vcpu=0 addr=18446603336221200384 error_code=6
1070 cpu1 irq_entry irq=40 vector=72
1080 cpu1 hypercall_entry op=29 vcpu=0
1090 cpu1 hypercall_exit op=48 ret=-22
1100 cpu1 hypercall_exit op=11 ret=0
`
	if r.stdout != want {
		t.Errorf("dump --raw printed\n%s\nwant\n%s", r.stdout, want)
	}
}

func TestDump(t *testing.T) {
	b := sampleTrace(t, 600)
	dir := b.write()
	for _, raw := range []bool{false, true} {
		args := []string{"dump", dir}
		if raw {
			args = append(args, "--raw")
		}
		r := run(t, args...)
		r.wantOK(t)
		if n := strings.Count(r.stdout, "\n"); n != len(b.records) {
			t.Errorf("%s: %d lines, want %d", args, n, len(b.records))
		}
		if want := wantDump(b.records, raw); r.stdout != want {
			t.Errorf("%s: output differs from what was written", args)
		}
	}
}

// TestDumpSecondBoundary crosses wall-clock seconds, where dump formats a new
// date and time of day.
func TestDumpSecondBoundary(t *testing.T) {
	b := newTraceBuilder(t)
	b.ts = 1e9 - testOffsetNS - 25 // the third record is on the next second
	for i := range 5 {
		b.add("irq_exit", 0, record.Uint(uint64(i)))
	}
	b.ts = 3601e9 - testOffsetNS - 10 // an hour later
	b.add("irq_exit", 0, record.Uint(5))
	b.add("irq_exit", 0, record.Uint(6))
	dir := b.write()
	r := run(t, "dump", dir)
	r.wantOK(t)
	want := `2023-11-14T22:13:20.999999985Z cpu0 irq_exit irq=0
2023-11-14T22:13:20.999999995Z cpu0 irq_exit irq=1
2023-11-14T22:13:21.000000005Z cpu0 irq_exit irq=2
2023-11-14T22:13:21.000000015Z cpu0 irq_exit irq=3
2023-11-14T22:13:21.000000025Z cpu0 irq_exit irq=4
2023-11-14T23:13:21.000000000Z cpu0 irq_exit irq=5
2023-11-14T23:13:21.000000010Z cpu0 irq_exit irq=6
`
	if r.stdout != want {
		t.Errorf("dump printed\n%s\nwant\n%s", r.stdout, want)
	}
}

// TestDumpCorrupt: dump prints the records before the damage, then names the
// file and offset on stderr.
func TestDumpCorrupt(t *testing.T) {
	b := sampleTrace(t, 600)
	for _, c := range corruptions(t, b) {
		t.Run(c.name, func(t *testing.T) {
			_, file := writeDamaged(b, c.stream)
			r := run(t, "dump", "--raw", filepath.Dir(file))
			r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: %s: offset %d: %s", name, file, c.off, c.want))
			if n := strings.Count(r.stdout, "\n"); n != c.before {
				t.Errorf("%d lines before the error, want %d", n, c.before)
			}
			if want := wantDump(b.records[:c.before], true); r.stdout != want {
				t.Errorf("output before the error differs from what was written")
			}
		})
	}
}

// failWriter accepts n bytes, then fails with err.
type failWriter struct {
	n   int
	err error
}

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestDumpWriteError(t *testing.T) {
	dir := sampleTrace(t, 20000).write()
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		// The reader of the pipe (head) has seen enough: stop quietly.
		{syscall.EPIPE, cmdline.ExitOK, ""},
		{&os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}, cmdline.ExitOK, ""},
		{errors.New("disk full"), cmdline.ExitError, name + ": write output: disk full\n"},
	} {
		var stderr bytes.Buffer
		code := cmdline.Run(newApp(&failWriter{n: 100_000, err: tc.err}, &stderr), []string{name, "dump", dir})
		if code != tc.code || stderr.String() != tc.want {
			t.Errorf("write error %v: exit %d, stderr %q; want %d, %q", tc.err, code, stderr.String(), tc.code, tc.want)
		}
	}
}

// BenchmarkDump measures dump's throughput, from the trace files to
// formatted lines (discarded).
func BenchmarkDump(b *testing.B) {
	tb := sampleTrace(b, 200_000)
	dir := tb.write()
	args := []string{name, "dump", dir}
	b.SetBytes(int64(len(tb.stream)))
	b.ReportAllocs()
	for b.Loop() {
		if code := cmdline.Run(newApp(io.Discard, io.Discard), args); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	events := float64(len(tb.records)) * float64(b.N)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
}
