package main

import "fmt"

// The ablation (-only ablation, not in the default run): the two changes
// to the write path one at a time, for the two-int event with 1 and 2
// writers, interleaved in one run. docs/PERFORMANCE.md's change log
// quotes it.
func ablationFigures(o *options, rep *Report) error {
	events, err := producerEvents()
	if err != nil {
		return err
	}
	e := events[0]
	reps, n := 7, 3_000_000
	if o.quick {
		reps, n = 3, 1_000_000
	}
	paths := []path{
		hvPath,
		{"tsc clock, commit per record", hvPath.clock, false},
		{"monotonic clock, batched commits", fastPath.clock, true},
		fastPath,
	}
	// The second and third differ from the ends in one respect each.
	paths[1].clock, paths[2].clock = fastPath.clock, hvPath.clock
	var cases []prodCase
	for _, w := range []int{1, 2} {
		for _, p := range paths {
			ch, err := warmChannel(p, e)
			if err != nil {
				return err
			}
			defer ch.close()
			cases = append(cases, prodCase{fmt.Sprintf("%s, %d writer%s", p.name, w, plural(w)), func() (prodRun, error) { return runProducer(ch, p, e, w, n) }})
		}
	}
	cpu, par, err := repeatCases(reps, cases)
	if err != nil {
		return err
	}
	for i, c := range cases {
		f := Figure{Section: "ablation", Name: "two-int, " + c.name, Unit: "ns/event", Value: stat(cpu[i]),
			Note: fmt.Sprintf("%.2f CPUs busy", stat(par[i]).Median)}
		if base := i - i%len(paths); i != base {
			f = f.withBase(cases[base].name, stat(cpu[base]))
		}
		rep.add(f)
	}
	return nil
}
