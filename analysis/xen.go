package analysis

import "strconv"

// IdleDomain is Xen's id of the idle domain (DOMID_IDLE, 0x7FFF): a pCPU
// running one of its vCPUs is idle.
const IdleDomain = 0x7FFF

// hypercallNames are Xen's hypercall names by op number, as
// xen/include/public/xen.h defines __HYPERVISOR_<name>.
var hypercallNames = map[uint64]string{
	0: "set_trap_table", 1: "mmu_update", 2: "set_gdt", 3: "stack_switch",
	4: "set_callbacks", 5: "fpu_taskswitch", 6: "sched_op_compat", 7: "platform_op",
	8: "set_debugreg", 9: "get_debugreg", 10: "update_descriptor",
	12: "memory_op", 13: "multicall", 14: "update_va_mapping", 15: "set_timer_op",
	16: "event_channel_op_compat", 17: "xen_version", 18: "console_io",
	19: "physdev_op_compat", 20: "grant_table_op", 21: "vm_assist",
	22: "update_va_mapping_otherdomain", 23: "iret", 24: "vcpu_op",
	25: "set_segment_base", 26: "mmuext_op", 27: "xsm_op", 28: "nmi_op",
	29: "sched_op", 30: "callback_op", 31: "xenoprof_op", 32: "event_channel_op",
	33: "physdev_op", 34: "hvm_op", 35: "sysctl", 36: "domctl", 37: "kexec_op",
	38: "tmem_op", 39: "argo_op", 40: "xenpmu_op", 41: "dm_op", 42: "hypfs_op",
	48: "arch_0", 49: "arch_1", 50: "arch_2", 51: "arch_3",
	52: "arch_4", 53: "arch_5", 54: "arch_6", 55: "arch_7",
}

// HypercallName returns Xen's name of hypercall op ("mmu_update" for 1),
// or "" for a number Xen does not define.
func HypercallName(op uint64) string { return hypercallNames[op] }

// HypercallLabel returns the name of op, or "hypercall_N" when Xen
// defines none.
func HypercallLabel(op uint64) string {
	if n := hypercallNames[op]; n != "" {
		return n
	}
	return "hypercall_" + strconv.FormatUint(op, 10)
}

// DomainLabel returns "d3", or "idle" for [IdleDomain].
func DomainLabel(dom uint16) string {
	if dom == IdleDomain {
		return "idle"
	}
	return "d" + strconv.FormatUint(uint64(dom), 10)
}
