package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// Traces of several stream files, one per pCPU, as channel v2 writes them.

// TestDumpStreams: dump merges four streams by timestamp, each line with
// its pCPU, and prints as many events as babeltrace2, at the same times.
func TestDumpStreams(t *testing.T) {
	s := sampleStreams(t, 4, 300)
	dir := s.write()
	merged := s.merged()
	r := run(t, "dump", "--raw", dir)
	r.wantOK(t)
	if want := wantDump(merged, true); r.stdout != want {
		t.Fatalf("dump --raw printed %d lines, not the %d records merged by timestamp", strings.Count(r.stdout, "\n"), len(merged))
	}
	var last uint64
	cpus := map[string]int{}
	for line := range strings.Lines(r.stdout) {
		f := strings.Fields(line)
		ts, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || ts < last {
			t.Fatalf("line %q: timestamp not in order after %d", line, last)
		}
		last = ts
		cpus[f[1]]++
	}
	if len(cpus) != 4 || cpus["cpu0"] != 300 || cpus["cpu3"] != 300 {
		t.Errorf("lines per pCPU %v, want 300 on each of cpu0-cpu3", cpus)
	}
	r = run(t, "dump", dir)
	r.wantOK(t)
	if want := wantDump(merged, false); r.stdout != want {
		t.Errorf("dump printed %d lines, not the %d records merged by timestamp", strings.Count(r.stdout, "\n"), len(merged))
	}
}

// btTimestamp is the raw timestamp at the start of a babeltrace2
// --clock-cycles line.
var btTimestamp = regexp.MustCompile(`^\[(\d+)\]`)

// TestStreamsBabeltrace: babeltrace2 reads the four-stream trace the tests
// build (so it is a valid CTF trace of four streams), prints as many
// events as dump and stats count, at the same timestamps in the same
// order, and warns about pCPU 1's losses.
func TestStreamsBabeltrace(t *testing.T) {
	bt := testenv.Babeltrace(t)
	s := sampleStreams(t, 4, 300)
	dir := s.write()
	cmd := exec.Command(bt, "--clock-cycles", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("babeltrace2: %v\n%s", err, stderr.String())
	}
	var btTS []uint64
	for line := range strings.Lines(string(out)) {
		m := btTimestamp.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("babeltrace2 line %q has no [timestamp]", line)
		}
		ts, _ := strconv.ParseUint(m[1], 10, 64)
		btTS = append(btTS, ts)
	}
	r := run(t, "dump", "--raw", dir)
	r.wantOK(t)
	var ours []uint64
	for line := range strings.Lines(r.stdout) {
		ts, _ := strconv.ParseUint(strings.Fields(line)[0], 10, 64)
		ours = append(ours, ts)
	}
	if !slices.Equal(ours, btTS) {
		t.Errorf("dump: %d events, babeltrace2: %d; timestamps differ", len(ours), len(btTS))
	}
	st := statsJSON(t, dir)
	if st.Events != uint64(len(btTS)) {
		t.Errorf("stats: %d events, babeltrace2 printed %d", st.Events, len(btTS))
	}
	if !strings.Contains(stderr.String(), "13") {
		t.Errorf("babeltrace2 does not warn about the 13 discarded events:\n%s", stderr.String())
	}
}

// TestFollowStreams: dump --follow merges the streams present at each look
// by timestamp, and follows a stream file that appears later (a pCPU
// brought online).
func TestFollowStreams(t *testing.T) {
	s := sampleStreams(t, 3, 300)
	final := s.write() // the whole trace, copied below a piece at a time
	dir := t.TempDir()
	// copyFile appends final's file name up to offset end to dir's copy,
	// in one write, as lttd-xen appends packets.
	copyFile := func(name string, end int64) {
		data, err := os.ReadFile(filepath.Join(final, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data[st.Size():min(end, int64(len(data)))]); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("metadata", 1<<30)
	b0, b1, b2 := s.streams[0], s.streams[1], s.streams[2]
	copyFile("channel0_0", b0.packets[1].off)
	copyFile("channel0_1", b1.packets[2].off)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- cmdline.Run(newAppContext(ctx, &stdout, &stderr), []string{name, "dump", "--raw", "--follow", dir})
	}()

	// The first look: pCPU 0's first packet and pCPU 1's first two, merged.
	first := (&streamsBuilder{streams: []*traceBuilder{prefix(b0, 1), prefix(b1, 2)}}).merged()
	want := wantDump(first, true)
	waitFor(t, "the first packets of two streams, merged", stdout.String, want)

	// pCPU 2 comes online: its stream file appears.
	copyFile("channel0_2", int64(len(b2.stream)))
	want += wantDump(b2.records, true)
	waitFor(t, "the stream file created later", stdout.String, want)

	// The rest of pCPU 0's stream.
	copyFile("channel0_0", int64(len(b0.stream)))
	want += wantDump(b0.records[len(prefix(b0, 1).records):], true)
	waitFor(t, "the rest of stream 0", stdout.String, want)

	cancel()
	select {
	case code := <-exit:
		if code != cmdline.ExitOK || stderr.String() != "" {
			t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dump --follow did not stop 10 s after its context was cancelled")
	}
}

// prefix returns a builder holding b's first n packets' records.
func prefix(b *traceBuilder, n int) *traceBuilder {
	k := 0
	for _, p := range b.packets[:n] {
		k += p.records
	}
	return &traceBuilder{records: b.records[:k]}
}
