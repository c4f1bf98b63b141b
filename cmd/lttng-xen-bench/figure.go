package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// Stat is a figure measured several times: the median and the extremes.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   int       `json:"runs"`
	All    []float64 `json:"all"`
}

func stat(xs []float64) Stat {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return Stat{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1], Runs: len(s), All: xs}
}

// Figure is one row of the table: a value, the baseline measured in the
// same run and their ratio (value / baseline), against a target.
type Figure struct {
	Section  string   `json:"section"`
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	Value    Stat     `json:"value"`
	Baseline string   `json:"baseline,omitempty"`
	Base     *Stat    `json:"baseline_value,omitempty"`
	Ratio    *float64 `json:"ratio,omitempty"`
	Target   string   `json:"target,omitempty"`
	Met      *bool    `json:"met,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// withBase sets the baseline and the ratio of medians.
func (f Figure) withBase(name string, b Stat) Figure {
	f.Baseline, f.Base = name, &b
	if b.Median != 0 && !math.IsNaN(b.Median) {
		r := f.Value.Median / b.Median
		f.Ratio = &r
	}
	return f
}

// check sets the target text and whether it is met.
func (f Figure) check(target string, met bool) Figure {
	f.Target, f.Met = target, &met
	return f
}

// Report is everything one bench run produced.
type Report struct {
	Command string            `json:"command"`
	Date    string            `json:"date"`
	Machine map[string]string `json:"machine"`
	Quick   bool              `json:"quick"`
	Figures []Figure          `json:"figures"`
	Errors  []string          `json:"errors,omitempty"`
}

func (r *Report) add(f ...Figure) {
	r.Figures = append(r.Figures, f...)
	for _, x := range f {
		fmt.Fprintf(os.Stderr, "bench:   %s / %s: %s %s\n", x.Section, x.Name, num(x.Value.Median), x.Unit)
	}
}

func (r *Report) fail(section string, err error) {
	msg := fmt.Sprintf("%s: %v", section, err)
	r.Errors = append(r.Errors, msg)
	fmt.Fprintf(os.Stderr, "bench: %s\n", msg)
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// num formats a figure with three significant digits (more for large ones).
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case v == 0:
		return "0"
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func statText(s Stat, unit string) string {
	if s.Runs <= 1 {
		return num(s.Median) + " " + unit
	}
	return fmt.Sprintf("%s %s (%s–%s, n=%d)", num(s.Median), unit, num(s.Min), num(s.Max), s.Runs)
}

// writeTable prints the report as a Markdown table (what
// docs/PERFORMANCE.md keeps), grouped by section.
func (r *Report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "Command: `%s`  \n", r.Command)
	fmt.Fprintf(w, "Date: %s  \n", r.Date)
	keys := make([]string, 0, len(r.Machine))
	for k := range r.Machine {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s: %s  \n", k, r.Machine[k])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| section | figure | value: median (min–max, runs) | baseline (same run) | baseline value | ratio | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, f := range r.Figures {
		base, bv, ratio, met := "—", "—", "—", ""
		if f.Base != nil {
			base, bv = f.Baseline, statText(*f.Base, f.Unit)
		}
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *f.Ratio)
		}
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*f.Met]
		}
		name := f.Name
		if f.Note != "" {
			name += " (" + f.Note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Section, esc(name), statText(f.Value, f.Unit), esc(base), bv, ratio, esc(f.Target), met)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(w)
		for _, e := range r.Errors {
			fmt.Fprintf(w, "- error: %s\n", e)
		}
	}
}

func esc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
