// Package tests holds lttng-xen's end-to-end tests: real hypervisor, dom0,
// lttd-xen, lttctl-xen and lttv-xen processes, built by the tests, in a
// private run directory, checked with babeltrace2 where it is installed.
package tests
