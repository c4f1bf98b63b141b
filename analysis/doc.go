// Package analysis turns a trace's records, in timestamp order (a
// [record.Merger]), into what people debugging a hypervisor look at: a
// xenalyze-like summary ([Summarizer]), a timeline page ([Timeline]) and
// the Trace Event Format that Perfetto UI opens ([ChromeWriter]).
//
// All three are built on one [Replayer], which replays the records into
// intervals per pCPU: the vCPU running (from sched_switch), hypercalls
// (entry to exit on the same pCPU), IRQs (entry to exit) and offline
// periods (cpu_offline to cpu_online), clipped to a [Window]. Event names
// and fields are looked up by name in the trace's metadata, so a trace
// without some of the built-in events is analysed with what it has.
//
// Times are nanoseconds of the trace clock ([record.TraceInfo.NS]).
// Nothing here is safe for concurrent use.
package analysis
