// Package consumer is lttd-xen's engine: it maps a trace through dom0 in the
// consumer role (the control region and the buffer read-only, its consumed
// offsets read-write), then loops: drain the wakeup descriptor, hand every
// delivered sub-buffer of every pCPU's ring to a sink (a trace directory,
// straight from the mapping, or an lttng-relayd), release what reached it,
// block in poll(2). The loop has no timer unless the relay sink's
// --live-timer asks for one: an idle consumer sleeps in poll until dom0
// wakes it.
package consumer
