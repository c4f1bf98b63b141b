package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/browser"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

// TestTimelinePage writes the timeline of the known trace, checks the
// file is one self-contained page, then renders it in headless Chromium:
// the script ran without error and drew both lanes, and the screenshot
// is not blank.
func TestTimelinePage(t *testing.T) {
	dir := knownTrace(t).write()
	out := filepath.Join(t.TempDir(), "trace.html")
	run(t, "timeline", dir, "--output", out).wantOK(t)
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Self-contained: nothing fetched from elsewhere.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=|https?://|@import`).Find(page); m != nil {
		t.Errorf("the page refers to something outside it: %q", m)
	}
	for _, w := range []string{`"label":"d1v0"`, `"label":"idle"`, `"hypercall_names":{"1":"mmu_update","29":"sched_op"}`, `"events":17`} {
		if !strings.Contains(string(page), w) {
			t.Errorf("the page's data does not contain %s", w)
		}
	}
	b := browser.Chromium(t)
	dom := b.DumpDOM(t, out)
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	if strings.Contains(body, "data-error") {
		t.Fatalf("the page's script failed: %s", body)
	}
	m := regexp.MustCompile(`data-rendered="lanes=(\d+) rects=(\d+)"`).FindStringSubmatch(body)
	if m == nil || m[1] != "2" || m[2] == "0" {
		t.Fatalf("the page did not draw two lanes: %v", m)
	}
	if !strings.Contains(dom, "1.500 µs, 17 events on 2 pCPUs") {
		t.Error("the page's header does not say 1.500 µs, 17 events on 2 pCPUs")
	}
	shot := b.Screenshot(t, out, 1200, 500)
	if colours, inked := browser.Ink(t, shot); colours < 5 || inked < 0.02 {
		t.Errorf("screenshot looks blank: %d colours, %.1f%% of the pixels not white", colours, 100*inked)
	}
}

func TestTimelineBadInput(t *testing.T) {
	dir := knownTrace(t).write()
	r := run(t, "timeline", dir)
	r.wantFail(t, cmdline.ExitUsage, "timeline: --output FILE.html is required")
	bad := filepath.Join(t.TempDir(), "missing", "x.html")
	r = run(t, "timeline", dir, "--output", bad)
	r.wantFail(t, cmdline.ExitError, "cannot write "+bad)
	out := filepath.Join(t.TempDir(), "x.html")
	r = run(t, "timeline", dir, "--output", out, "--begin", "1s")
	r.wantFail(t, cmdline.ExitError, "the window holds no event")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed timeline left %s behind", out)
	}
}
