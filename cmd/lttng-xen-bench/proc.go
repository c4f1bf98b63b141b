package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procStatus returns the kB (or count) fields of /proc/PID/status named.
func procStatus(path string, names ...string) map[string]uint64 {
	out := map[string]uint64{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, n := range names {
			if k == n {
				f := strings.Fields(v)
				if len(f) > 0 {
					out[n], _ = strconv.ParseUint(f[0], 10, 64)
				}
			}
		}
	}
	return out
}

// memory is a process's resident set, in kB.
type memory struct {
	rss, hwm, anon, file, shmem uint64
}

func readMemory(pid int) memory {
	m := procStatus(fmt.Sprintf("/proc/%d/status", pid), "VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")
	return memory{m["VmRSS"], m["VmHWM"], m["RssAnon"], m["RssFile"], m["RssShmem"]}
}

// activity is a process's CPU time (ns, every thread) and its context
// switches (summed over its threads: /proc/PID/status alone shows only the
// main thread's).
type activity struct {
	cpuNS            uint64
	voluntary, invol uint64
}

func readActivity(pid int) activity {
	var a activity
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, t := range tasks {
		m := procStatus(filepath.Join(t, "status"), "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
		a.voluntary += m["voluntary_ctxt_switches"]
		a.invol += m["nonvoluntary_ctxt_switches"]
		if b, err := os.ReadFile(filepath.Join(t, "schedstat")); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseUint(f[0], 10, 64)
				a.cpuNS += ns
			}
		}
	}
	return a
}

func (a activity) sub(b activity) activity {
	return activity{a.cpuNS - b.cpuNS, a.voluntary - b.voluntary, a.invol - b.invol}
}
