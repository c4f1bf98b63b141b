/* ustbench N [THREADS]: THREADS threads (default 1) write N
 * lttngxen_bench:hypercall_entry events in all (N / THREADS each) and it
 * prints the CPU time per event in ns (CLOCK_PROCESS_CPUTIME_ID over the
 * timed section, as lttng-xen's producer figure is the process's CPU time
 * per event) and the wall time per event. Run it inside an LTTng session
 * with the event enabled (see cmd/lttng-xen-bench/peer.go). Each thread
 * writes a warm-up of a tenth of its share first; the clocks start once
 * every thread has warmed up and stop when the last one is done. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tp.h"

static long per;
static pthread_barrier_t warm, done;

static double now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *writer(void *arg)
{
	(void)arg;
	for (long i = 0; i < per / 10; i++)
		lttng_ust_tracepoint(lttngxen_bench, hypercall_entry, (uint64_t)i, (uint32_t)i);
	pthread_barrier_wait(&warm);
	for (long i = 0; i < per; i++)
		lttng_ust_tracepoint(lttngxen_bench, hypercall_entry, (uint64_t)i, (uint32_t)i);
	pthread_barrier_wait(&done);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	if (n < 1 || threads < 1 || threads > 256) {
		fprintf(stderr, "usage: ustbench N [THREADS]\n");
		return 2;
	}
	per = n / threads;
	pthread_barrier_init(&warm, NULL, threads + 1);
	pthread_barrier_init(&done, NULL, threads + 1);
	pthread_t tid[256];
	for (int t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, writer, NULL) != 0) {
			perror("ustbench: pthread_create");
			return 1;
		}
	pthread_barrier_wait(&warm);
	double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
	pthread_barrier_wait(&done);
	double c1 = now(CLOCK_PROCESS_CPUTIME_ID), w1 = now(CLOCK_MONOTONIC);
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	double total = (double)per * threads;
	printf("%.3f %.3f\n", (c1 - c0) / total, (w1 - w0) / total);
	return 0;
}
