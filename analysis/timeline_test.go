package analysis

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/browser"
)

func TestBinRuns(t *testing.T) {
	runs := []run{{0, 10, 0}, {10, 40, 1}, {40, 100, 0}, {100, 120, 0}, {250, 260, 2}}
	// Bins of 50: [0,50) mostly 1, [50,100) and [100,150) 0 (merged),
	// [150,200) and [200,250) empty, [250,300) 2.
	got := binRuns(runs, 50, 3)
	want := []uint64{0, 50, 1, 50, 100, 0, 200, 50, 2}
	if !slices.Equal(got, want) {
		t.Errorf("binRuns = %v, want %v", got, want)
	}
}

// bigTimeline fills a Timeline as a replay of a large trace would: on each
// of cpus pCPUs, n runs of 1 µs cycling through 8 vCPUs, each with a
// hypercall, an IRQ and a page fault.
func bigTimeline(cpus, n int, lim Limits) *Timeline {
	tl := NewTimeline(lim)
	tl.Start(1_000_000, 1<<62)
	for c := range uint32(cpus) {
		for i := range uint64(n) {
			b := 1_000_000 + i*1000
			tl.Run(c, uint16(i%4), uint16(i/4%2), b, b+1000)
			tl.Call(c, i%40, b+100, b+300)
			tl.IRQ(c, 40, 0x48, b+400, b+450)
			tl.addMark(c, mark{t: b + 500 - tl.begin, kind: MarkPageFault, arg: 0x7f000000 + i})
		}
	}
	return tl
}

// TestTimelineAggregates: past the limits, runs are binned and marks
// become densities, and the page stays small; under them, nothing is.
func TestTimelineAggregates(t *testing.T) {
	const cpus, n = 4, 100_000
	lim := Limits{Runs: 40_000, Marks: 20_000, Bins: 1000}
	tl := bigTimeline(cpus, n, lim)
	end := uint64(1_000_000 + n*1000)
	d := tl.Data("big", "2026-01-01T00:00:00.000000000Z", 3*cpus*n, end)
	if d.RunsBinNS == 0 || d.MarksBinNS == 0 {
		t.Fatalf("bins %d, %d: want both aggregated", d.RunsBinNS, d.MarksBinNS)
	}
	var runs, marks int
	for _, l := range d.Lanes {
		runs += len(l.Runs) / 3
		marks += len(l.Marks)
		var sum [numMarkKinds]uint64
		for k, counts := range l.Density {
			for _, c := range counts {
				sum[k] += uint64(c)
			}
		}
		if sum != [numMarkKinds]uint64{n, n, n} {
			t.Errorf("pCPU %d densities sum to %v, want %d of each kind", l.CPU, sum, n)
		}
		for _, counts := range l.Density {
			if len(counts) > 2*lim.Bins || len(counts) < lim.Bins/2 {
				t.Errorf("pCPU %d: %d bins, want %d to %d", l.CPU, len(counts), lim.Bins/2, 2*lim.Bins)
			}
		}
	}
	if runs > lim.Runs+cpus || runs < lim.Runs/2 || marks != 0 {
		t.Errorf("%d runs (limit %d), %d exact marks", runs, lim.Runs, marks)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, d); err != nil {
		t.Fatal(err)
	}
	// About 20 bytes a run and 3 a density bin, plus the page itself.
	if max := 30*lim.Runs + 2*4*cpus*3*lim.Bins + 64<<10; page.Len() > max {
		t.Errorf("page of %d bytes, want at most %d", page.Len(), max)
	}

	small := bigTimeline(2, 100, lim).Data("small", "", 600, 1_000_000+100*1000)
	if small.RunsBinNS != 0 || small.MarksBinNS != 0 || len(small.Lanes[0].Runs) != 300 || len(small.Lanes[1].Marks) != 5*300 {
		t.Errorf("small timeline aggregated: bins %d %d, %d run words, %d mark words",
			small.RunsBinNS, small.MarksBinNS, len(small.Lanes[0].Runs), len(small.Lanes[1].Marks))
	}
}

// TestTimelineAggregatedPage renders an aggregated page in headless
// Chromium: the script draws every lane without error.
func TestTimelineAggregatedPage(t *testing.T) {
	b := browser.Chromium(t)
	const cpus, n = 8, 50_000
	d := bigTimeline(cpus, n, Limits{Runs: 40_000, Marks: 20_000, Bins: 1000}).Data("big", "2026-01-01T00:00:00.000000000Z", 3*cpus*n, 1_000_000+n*1000)
	page := filepath.Join(t.TempDir(), "big.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, d); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`<body[^>]*>`).FindString(b.DumpDOM(t, page))
	if strings.Contains(body, "data-error") || !strings.Contains(body, `data-rendered="lanes=8 rects=`) {
		t.Fatalf("page body %s: want 8 lanes drawn, no error", body)
	}
}

// TestTimelinePageScriptError: a page whose script fails is caught (the
// check the browser tests rely on can fail).
func TestTimelinePageScriptError(t *testing.T) {
	b := browser.Chromium(t)
	d := bigTimeline(1, 10, DefaultLimits).Data("t", "", 30, 1_000_000+10*1000)
	d.Lanes[0].Density = nil // the script reads it only when aggregated: break what it reads always
	d.Who = nil
	page := filepath.Join(t.TempDir(), "bad.html")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`<body[^>]*>`).FindString(b.DumpDOM(t, page))
	if !strings.Contains(body, "data-error") || strings.Contains(body, "data-rendered") {
		t.Fatalf("page body %s: want the script's error caught", body)
	}
}
