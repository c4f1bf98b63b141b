package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// damage is a damaged copy of a trace's stream and what --salvage must
// make of it.
type damage struct {
	name      string
	stream    []byte
	recovered []written // the intact records, in order
	packets   int       // whole packets recovered
	lost      uint64    // events_discarded of the last whole packet
	skips     []string  // skipText of each region, FILE standing for the stream file
	skipped   int64     // bytes
	skippedP  uint64    // packets
}

// foreignFile is a file that found its way into a trace directory's
// stream (a script's output, say), longer than a packet header so that
// its bad magic is what salvage reports.
var foreignFile = []byte("#!/bin/sh\n# not a trace packet: a shell script that got in the way of the trace\nexit 0\n")

// damages damages the stream of b (sampleTrace(600): at least 5 packets)
// in the ways --salvage must get past.
func damages(t *testing.T, b *traceBuilder) []damage {
	t.Helper()
	p := b.packets
	last := len(p) - 1
	if len(p) < 5 {
		t.Fatalf("trace of %d packets: too small", len(p))
	}
	end := func(w written) int64 { return w.off + int64(w.e.Size(w.vals)) }
	// keep returns the records for which in is true.
	keep := func(in func(w written) bool) []written {
		var out []written
		for _, w := range b.records {
			if in(w) {
				out = append(out, w)
			}
		}
		return out
	}
	// cum is packet k's cumulative events_discarded.
	cum := func(k int) uint64 {
		var n uint64
		for _, q := range p[:k+1] {
			n += q.discarded
		}
		return n
	}
	size := int64(len(b.stream))
	clone := func() []byte { return bytes.Clone(b.stream) }

	// A record in the middle of packet 1, not its first, gets event id 999.
	k := 0
	for _, q := range p[:1] {
		k += q.records
	}
	k += p[1].records / 2
	flipped := b.records[k]
	prevEnd := end(b.records[k-1])
	flip := clone()
	binary.LittleEndian.PutUint32(flip[flipped.off+record.OffID:], 999)

	// The last packet cut 300 bytes in.
	cut := p[last].off + 300
	lastWhole := p[last].off + record.PacketHeaderSize
	for _, w := range b.records {
		if w.off >= p[last].off && end(w) <= cut {
			lastWhole = end(w)
		}
	}

	zeroed := clone()
	clear(zeroed[p[2].off : p[2].off+packetSize])

	random := make([]byte, 5000)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	magicOf := func(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

	return []damage{
		{
			name:      "zero-filled packet",
			stream:    zeroed,
			recovered: keep(func(w written) bool { return w.off < p[2].off || w.off >= p[3].off }),
			packets:   len(p) - 1, lost: cum(last),
			skips: []string{fmt.Sprintf("FILE: offset %d: bad packet magic: magic 0x00000000, want 0xc1fc1fc1; skipped 4096 bytes at offsets %d-%d (1 packet)",
				p[2].off, p[2].off, p[2].off+4095)},
			skipped: 4096, skippedP: 1,
		},
		{
			name:      "truncated last packet",
			stream:    b.stream[:cut],
			recovered: keep(func(w written) bool { return end(w) <= cut }),
			packets:   len(p) - 1, lost: cum(last - 1),
			skips: []string{fmt.Sprintf("FILE: offset %d: truncated: packet_size 4096 bytes but only 300 bytes left in the file; skipped %d bytes at offsets %d-%d (1 packet)",
				p[last].off+record.OffPacketSize, cut-lastWhole, lastWhole, cut-1)},
			skipped: cut - lastWhole, skippedP: 1,
		},
		{
			name:      "foreign file appended",
			stream:    append(clone(), foreignFile...),
			recovered: b.records,
			packets:   len(p), lost: cum(last),
			skips: []string{fmt.Sprintf("FILE: offset %d: bad packet magic: magic %#08x, want 0xc1fc1fc1; skipped %d bytes at offsets %d-%d (no packet)",
				size, magicOf(foreignFile), len(foreignFile), size, size+int64(len(foreignFile))-1)},
			skipped: int64(len(foreignFile)),
		},
		{
			name:      "random bytes appended",
			stream:    append(clone(), random...),
			recovered: b.records,
			packets:   len(p), lost: cum(last),
			skips: []string{fmt.Sprintf("FILE: offset %d: bad packet magic: magic %#08x, want 0xc1fc1fc1; skipped 5000 bytes at offsets %d-%d (no packet)",
				size, magicOf(random), size, size+4999)},
			skipped: 5000,
		},
		{
			name:      "flipped bytes in an event",
			stream:    flip,
			recovered: keep(func(w written) bool { return w.off < flipped.off || w.off >= p[2].off }),
			packets:   len(p) - 1, lost: cum(last),
			skips: []string{fmt.Sprintf("FILE: offset %d: unknown event id: event id 999 is not declared in the metadata; skipped %d bytes at offsets %d-%d (1 packet)",
				flipped.off+record.OffID, p[2].off-prevEnd, prevEnd, p[2].off-1)},
			skipped: p[2].off - prevEnd, skippedP: 1,
		},
	}
}

// replaceFile stands the stream file's path in for FILE in want.
func replaceFile(want []string, file string) []string {
	out := make([]string, len(want))
	for i, w := range want {
		out[i] = strings.ReplaceAll(w, "FILE", file)
	}
	return out
}

// salvageStderr is what dump and stats --salvage print on stderr for d.
func salvageStderr(d damage, dir, file string) string {
	var s strings.Builder
	for _, l := range replaceFile(d.skips, file) {
		fmt.Fprintf(&s, "%s: salvage: %s\n", name, l)
	}
	fmt.Fprintf(&s, "%s: salvage: %s: recovered %s in %s; skipped %s (%s) in %s\n", name, dir,
		plural(uint64(len(d.recovered)), "event"), plural(uint64(d.packets), "whole packet"),
		plural(uint64(d.skipped), "byte"), plural(d.skippedP, "packet"), plural(uint64(len(d.skips)), "damaged region"))
	return s.String()
}

func TestDumpSalvage(t *testing.T) {
	b := sampleTrace(t, 600)
	for _, d := range damages(t, b) {
		t.Run(d.name, func(t *testing.T) {
			dir, file := writeDamaged(b, d.stream)
			r := run(t, "dump", "--raw", "--salvage", dir)
			if r.code != cmdline.ExitOK {
				t.Errorf("exit %d, want 0", r.code)
			}
			if want := wantDump(d.recovered, true); r.stdout != want {
				t.Errorf("dump --salvage printed %d lines, want the %d intact records", strings.Count(r.stdout, "\n"), len(d.recovered))
			}
			if want := salvageStderr(d, dir, file); r.stderr != want {
				t.Errorf("stderr\n%s\nwant\n%s", r.stderr, want)
			}
			// Without --salvage, dump stops at the damage.
			if r := run(t, "dump", "--raw", dir); r.code != cmdline.ExitError {
				t.Errorf("dump without --salvage: exit %d, want 1", r.code)
			}
		})
	}
}

func TestStatsSalvage(t *testing.T) {
	b := sampleTrace(t, 600)
	for _, d := range damages(t, b) {
		t.Run(d.name, func(t *testing.T) {
			dir, file := writeDamaged(b, d.stream)
			r := run(t, "stats", "--json", "--salvage", dir)
			if r.code != cmdline.ExitOK {
				t.Errorf("exit %d, want 0", r.code)
			}
			if want := salvageStderr(d, dir, file); r.stderr != want {
				t.Errorf("stderr\n%s\nwant\n%s", r.stderr, want)
			}
			var got stats
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if got.Events != uint64(len(d.recovered)) || got.Packets != uint64(d.packets) || got.EventsLost != d.lost ||
				got.SkippedBytes != d.skipped || got.SkippedPackets != d.skippedP || len(got.Skipped) != len(d.skips) {
				t.Fatalf("stats: %+v\nwant %d events, %d packets, %d lost, %d bytes and %d packets skipped in %d regions",
					got, len(d.recovered), d.packets, d.lost, d.skipped, d.skippedP, len(d.skips))
			}
			for i, want := range replaceFile(d.skips, file) {
				s := got.Skipped[i]
				if text := skipText(record.Skip{Offset: s.Offset, Size: s.Bytes, Packets: s.Packets, Err: strError(s.Error)}); text != want || s.File != file {
					t.Errorf("skipped[%d] %+v reads %q, want %q", i, s, text, want)
				}
			}
			// The table says it too.
			r = run(t, "stats", "--salvage", dir)
			if want := fmt.Sprintf("\nskipped      %s (%s) in %s\n", plural(uint64(d.skipped), "byte"), plural(d.skippedP, "packet"), plural(uint64(len(d.skips)), "damaged region")); r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Errorf("stats table does not contain %q", want)
			}
		})
	}
}

// strError is an error whose message is s.
type strError string

func (e strError) Error() string { return string(e) }

func TestCheckSalvage(t *testing.T) {
	b := sampleTrace(t, 600)
	for _, d := range damages(t, b) {
		t.Run(d.name, func(t *testing.T) {
			dir, file := writeDamaged(b, d.stream)
			r := run(t, "check", "--salvage", dir)
			r.wantFail(t, cmdline.ExitError, fmt.Sprintf("%s: check: %s: damaged: %s would be skipped; %s recoverable with %s dump --salvage\n",
				name, dir, plural(uint64(d.skipped), "byte"), plural(uint64(len(d.recovered)), "event"), name))
			want := fmt.Sprintf("%s: DAMAGED: %s to skip (%s, %s); recoverable: %d packets, %d events, %d lost\n", dir,
				plural(uint64(len(d.skips)), "region"), plural(uint64(d.skipped), "byte"), plural(d.skippedP, "packet"),
				d.packets, len(d.recovered), d.lost)
			for _, l := range replaceFile(d.skips, file) {
				want += "   " + l + "\n"
			}
			want += fmt.Sprintf("   stream channel0_0 (pCPU 0): %d packets, %d events, %d lost\n", d.packets, len(d.recovered), d.lost)
			if r.stdout != want {
				t.Errorf("check --salvage printed\n%s\nwant\n%s", r.stdout, want)
			}
		})
	}
	// An intact trace: the OK line, as without --salvage.
	dir := b.write()
	r := run(t, "check", "--salvage", dir)
	r.wantOK(t)
	if want := fmt.Sprintf("%s: OK: %d packets, %d events, 12 lost\n   stream channel0_0 (pCPU 0): %d packets, %d events, 12 lost\n",
		dir, len(b.packets), len(b.records), len(b.packets), len(b.records)); r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

// TestSalvageNothingRecovered: a stream that is all foreign bytes gives
// nothing: exit 1, saying so.
func TestSalvageNothingRecovered(t *testing.T) {
	b := sampleTrace(t, 10)
	dir, file := writeDamaged(b, foreignFile)
	skip := fmt.Sprintf("%s: offset 0: bad packet magic: magic %#08x, want 0xc1fc1fc1; skipped %d bytes at offsets 0-%d (no packet)",
		file, binary.LittleEndian.Uint32(foreignFile), len(foreignFile), len(foreignFile)-1)
	for _, cmd := range []string{"dump", "stats"} {
		r := run(t, cmd, "--salvage", dir)
		want := fmt.Sprintf("%s: salvage: %s\n%s: %s: nothing recovered: %d bytes skipped in 1 damaged region\n", name, skip, name, dir, len(foreignFile))
		if r.code != cmdline.ExitError || r.stderr != want {
			t.Errorf("%s --salvage: exit %d, stderr\n%s\nwant exit 1 and\n%s", cmd, r.code, r.stderr, want)
		}
	}
}

// TestSalvageStreams: the regions of every stream file are reported, the
// counts summed.
func TestSalvageStreams(t *testing.T) {
	b := sampleTrace(t, 600)
	dir := b.write()
	second := filepath.Join(dir, "channel0_1")
	writeFile(t, second, append(bytes.Clone(b.stream), foreignFile...))
	r := run(t, "dump", "--salvage", dir)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2*len(b.records) {
		t.Errorf("exit %d, %d lines; want 0, %d", r.code, strings.Count(r.stdout, "\n"), 2*len(b.records))
	}
	want := fmt.Sprintf("%s: salvage: %s: offset %d: bad packet magic", name, second, len(b.stream))
	if !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, fmt.Sprintf("recovered %d events in %d whole packets", 2*len(b.records), 2*len(b.packets))) {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestFollowSalvageUsage(t *testing.T) {
	dir := sampleTrace(t, 10).write()
	r := run(t, "dump", "--follow", "--salvage", dir)
	r.wantFail(t, cmdline.ExitUsage, "--follow and --salvage cannot be combined")
}
