package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

// lttngTimer reads the value of a timer flag named as lttng(1) names it (--switch-timer): a
// Go duration (500ms, 2s) or, as lttng takes it, a plain number of microseconds. 0 turns the
// timer off; any other value must be at least least.
func lttngTimer(flag, raw string, least time.Duration) (time.Duration, error) {
	raw = strings.TrimSpace(raw)
	var d time.Duration
	if us, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if us > int64(1<<63-1)/int64(time.Microsecond) {
			return 0, cmdline.Usagef("--%s %s: too long", flag, raw)
		}
		d = time.Duration(us) * time.Microsecond
	} else {
		var perr error
		if d, perr = time.ParseDuration(raw); perr != nil {
			return 0, cmdline.Usagef("--%s %q: want a duration (500ms, 2s) or a number of microseconds (500000)", flag, raw)
		}
	}
	switch {
	case d < 0:
		return 0, cmdline.Usagef("--%s %s: must not be negative (0 turns the timer off)", flag, raw)
	case d > 0 && d < least:
		return 0, cmdline.Usagef("--%s %s: below the minimum, %s (%d µs); 0 turns the timer off", flag, raw, least, least/time.Microsecond)
	}
	return d, nil
}

// parseCPUList reads a pCPU list as xentrace -c and taskset -c take it: ids and ranges,
// comma-separated ("0,2-3"). It returns the ids in the order given.
func parseCPUList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty list")
	}
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := cpuID(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = cpuID(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("range %s goes down", part)
			}
		}
		if b-a >= 4096 {
			return nil, fmt.Errorf("range %s: more than 4096 pCPUs", part)
		}
		for id := a; id <= b; id++ {
			out = append(out, id)
		}
	}
	return out, nil
}

func cpuID(s string) (int, error) {
	id, err := strconv.Atoi(s)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("%q is not a pCPU id (want ids and ranges: 0,2-3)", s)
	}
	return id, nil
}
