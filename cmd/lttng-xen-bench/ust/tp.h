/* The LTTng-UST peer of lttng-xen's two-integer event: hypercall_entry
 * (u64 op, u32 vcpu), the same payload lttng-xen's producer benchmark
 * writes. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER lttngxen_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./tp.h"

#if !defined(LTTNGXEN_BENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LTTNGXEN_BENCH_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

LTTNG_UST_TRACEPOINT_EVENT(
	lttngxen_bench,
	hypercall_entry,
	LTTNG_UST_TP_ARGS(uint64_t, op, uint32_t, vcpu),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint64_t, op, op)
		lttng_ust_field_integer(uint32_t, vcpu, vcpu)
	)
)

#endif /* LTTNGXEN_BENCH_TP_H */

#include <lttng/tracepoint-event.h>
