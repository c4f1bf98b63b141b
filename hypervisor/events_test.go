package hypervisor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// TestFilterRulesStayBounded: thousands of enable/disable requests on the
// same globs leave a rule list no longer than the number of event types,
// so their cost on each later event add and mask does not grow.
func TestFilterRulesStayBounded(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 1, Rate: 1})
	if err := h.Create(TraceConfig{Geometry: shm.Geometry{SubbufSize: 4096, NumSubbuf: 2}}); err != nil {
		t.Fatal(err)
	}
	globs := []string{"timer", "irq_*", "printk", "sched_*", "*_exit"}
	for i := range 5000 {
		if err := h.SetEvents(i%2 == 0, []string{globs[i%len(globs)]}); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	n := len(h.trace.rules)
	h.mu.Unlock()
	if types := len(h.table.Events()); n > types {
		t.Fatalf("%d rules after 5000 requests on %d globs, want at most the %d event types", n, len(globs), types)
	}
}

// TestNormaliseKeepsMeaning: for random request sequences, the normalised
// rules enable exactly the events the full list does, for the event types
// that exist and for names registered later.
func TestNormaliseKeepsMeaning(t *testing.T) {
	names := []string{"timer", "irq_entry", "irq_exit", "printk", "sched_switch", "a", "ab", "b_exit", "x[1]"}
	later := []string{"irq_new", "zzz", "a_exit", "timer2", "ab", "b", "printk_x"}
	globPool := []string{"*", "timer", "irq_*", "printk", "a", "ab", "a*", "*_exit", "?b", "[ab]*", "**", "x\\[1\\]", "sched_switch", "b_exit"}
	events := func(ns []string) []*record.Event {
		var evs []*record.Event
		for i, n := range ns {
			evs = append(evs, &record.Event{ID: uint32(i), Name: n})
		}
		return evs
	}
	all := events(append(slices.Clone(names), later...))
	rng := rand.New(rand.NewPCG(1, 2))
	for seq := range 2000 {
		var full, norm []filterRule
		if rng.IntN(2) == 0 {
			full = initialRules(nil)
		} else {
			full = initialRules([]string{"irq_*", "printk"})
		}
		norm = normaliseRules(slices.Clone(full))
		for range rng.IntN(30) {
			r := filterRule{enable: rng.IntN(2) == 0, glob: globPool[rng.IntN(len(globPool))]}
			full = append(full, r)
			norm = normaliseRules(append(norm, r))
		}
		if got, want := computeMask(norm, all), computeMask(full, all); !slices.Equal(got, want) {
			t.Fatalf("sequence %d: rules %v normalised to %v: mask %b, want %b", seq, full, norm, got, want)
		}
	}
}

// TestFilterCaps: a glob over the length cap and a rule list over the rule
// cap are refused with the cap in a one-line message, and change nothing.
func TestFilterCaps(t *testing.T) {
	h := newTestHypervisor(t, Config{CPUs: 1, Rate: 1})
	if err := h.Create(TraceConfig{Geometry: shm.Geometry{SubbufSize: 4096, NumSubbuf: 2}}); err != nil {
		t.Fatal(err)
	}
	long := "t" + strings.Repeat("*", MaxGlobLen)
	if err := h.SetEvents(true, []string{long}); !errors.Is(err, wire.ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(MaxGlobLen)) {
		t.Errorf("glob of %d bytes: %v", len(long), err)
	}
	// Distinct patterns that all match "timer" cannot be merged: the cap stops them.
	var err error
	for i := 0; i <= MaxFilterRules; i++ {
		if err = h.SetEvents(i%2 == 0, []string{"[t" + letters(i) + "]*"}); err != nil {
			break
		}
	}
	if !errors.Is(err, wire.ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(MaxFilterRules)) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("over %d rules: %v", MaxFilterRules, err)
	}
	// A catch-all resets the list.
	if err := h.SetEvents(false, []string{"*"}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetEvents(true, []string{"timer"}); err != nil {
		t.Fatal(err)
	}
	// (The hotplug markers are never filtered out.)
	if got := h.Status().EnabledEvents; !slices.Equal(got, []string{"timer", "cpu_online", "cpu_offline"}) {
		t.Errorf("enabled after disable * and enable timer: %v", got)
	}
}

// letters spells i in base 25 with the letters other than t.
func letters(i int) string {
	const digits = "abcdefghijklmnopqrsuvwxyz"
	s := string(digits[i%25])
	for i /= 25; i > 0; i /= 25 {
		s = string(digits[i%25]) + s
	}
	return s
}
