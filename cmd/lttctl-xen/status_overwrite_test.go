package main

import (
	"testing"

	"github.com/lttng-xen/lttng-xen/wire"
)

// TestStatusOverwrite: in overwrite mode the packets line and the per-pCPU
// table count the packets each ring reclaimed before they were consumed.
func TestStatusOverwrite(t *testing.T) {
	st := started
	st.Mode = wire.ModeOverwrite
	st.PerCPU = []wire.CPUStatus{
		{CPU: 0, Online: true, EventsWritten: 100000, PacketsDelivered: 30, Overwritten: 26},
		{CPU: 1, Online: true, EventsWritten: 23456, PacketsDelivered: 10, Overwritten: 6},
	}
	d := startFakeDom0(t, statusOf(t, st))
	d.run(t, "status").wantOK(t, `session           web
state             started
output            /srv/traces/web
uuid              5f0c2a9e-3b1d-4e8a-9c47-1d2e3f405162
sub-buffers       8 x 64KiB = 512KiB per pCPU
mode              overwrite
switch timer      500ms
cpus online       0-2,5 (4 of 8)
workload cpus     0-2
events            2 of 5 enabled: sched_switch, irq_entry
events written    123456
events lost       12 (buffer full 10, too big 2)
packets           delivered 40, consumed 38, overwritten 32
bad consumed      1
refcount          2
readers           1
consumer          pid 4242, to net://relay.example (sent 2432KiB, queued 128KiB)
clock             tsc
metadata version  3
  cpu  online  written  lost  delivered  consumed  overwritten
    0     yes   100000     0         30         0           26
    1     yes    23456     0         10         0            6
`)
}
