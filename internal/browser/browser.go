// Package browser renders pages in headless Chromium for tests: the DOM
// after the page's scripts ran, and a screenshot. It is imported by tests
// only.
package browser

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// Browser is a headless Chromium.
type Browser struct{ path string }

// Chromium returns the installed Chromium, or skips the test (fails it if
// testenv.RequireChromiumEnv is 1) when there is none.
func Chromium(t testing.TB) Browser { return Browser{testenv.Chromium(t)} }

// run runs Chromium headless on the file page with args.
func (b Browser) run(t testing.TB, page string, args ...string) []byte {
	t.Helper()
	abs, err := filepath.Abs(page)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir() // its profile and crash dumps, not the user's
	cmd := exec.Command(b.path, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + filepath.Join(home, "profile"), "--hide-scrollbars",
	}, append(args, "file://"+abs)...)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", b.path, err, stderr.String())
	}
	return out
}

// DumpDOM returns the page's DOM once it has loaded and its scripts ran.
func (b Browser) DumpDOM(t testing.TB, page string) string {
	t.Helper()
	return string(b.run(t, page, "--dump-dom"))
}

// Screenshot returns a PNG of the page in a w×h window.
func (b Browser) Screenshot(t testing.TB, page string, w, h int) []byte {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	b.run(t, page, "--screenshot="+shot, "--window-size="+strconv.Itoa(w)+","+strconv.Itoa(h))
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	return data
}

// Ink returns the number of distinct colours in a PNG and the share of
// its pixels that are not white.
func Ink(t testing.TB, data []byte) (colours int, inked float64) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	seen := map[[3]uint32]bool{}
	var n, ink int
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
			n++
			if r>>8 < 250 || g>>8 < 250 || b>>8 < 250 {
				ink++
			}
		}
	}
	return len(seen), float64(ink) / float64(max(1, n))
}
