/* ustbench N: writes N lttngxen_bench:hypercall_entry events from one
 * thread and prints the CPU time per event in ns (CLOCK_THREAD_CPUTIME_ID,
 * as lttng-xen's producer figure is CPU time per event) and the wall time
 * per event. Run it inside an LTTng session with the event enabled (see
 * bench/peer.go). A warm-up of N/10 events runs first. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tp.h"

static double now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	for (long i = 0; i < n / 10; i++)
		lttng_ust_tracepoint(lttngxen_bench, hypercall_entry, (uint64_t)i, (uint32_t)i);
	double c0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++)
		lttng_ust_tracepoint(lttngxen_bench, hypercall_entry, (uint64_t)i, (uint32_t)i);
	double c1 = now(CLOCK_THREAD_CPUTIME_ID), w1 = now(CLOCK_MONOTONIC);
	printf("%.3f %.3f\n", (c1 - c0) / n, (w1 - w0) / n);
	return 0;
}
