module github.com/lttng-xen/lttng-xen

go 1.26
