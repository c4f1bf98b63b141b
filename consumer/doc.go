// Package consumer is lttd-xen's engine: it maps a trace's control page
// (read-write) and buffer (read-only) through dom0, then loops: drain the
// wakeup descriptor, write every delivered sub-buffer to the stream file
// straight from the mapping, release them, block in poll(2). There is no
// timer anywhere in the loop: an idle consumer sleeps in poll until dom0
// wakes it.
package consumer
