module github.com/lttng-xen/lttng-xen

go 1.26.0

require golang.org/x/sys v0.50.0
