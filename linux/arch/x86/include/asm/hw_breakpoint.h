/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 debug registers as the hardware-breakpoint subsystem sees them:
 * DR0-DR3 hold up to four addresses, shared by instruction breakpoints and
 * data watchpoints; DR7 holds each one's enable bits and a 4-bit field of
 * access type and length; DR6 reports which fired.
 * See Documentation/dev-tools/hw-breakpoint.rst.
 */
#ifndef _ASM_X86_HW_BREAKPOINT_H
#define _ASM_X86_HW_BREAKPOINT_H

#include <uapi/asm/hw_breakpoint.h>
#include <uapi/asm/debugreg.h>

/**
 * struct arch_hw_breakpoint - one breakpoint, decoded for DR0-DR3 and DR7
 * @address: the linear address for its DRn (a range's first byte)
 * @mask: AMD address mask for a range breakpoint wider than 8 bytes, or 0
 * @len: X86_BREAKPOINT_LEN_* (of a range's first piece)
 * @type: X86_BREAKPOINT_EXECUTE, _WRITE or _RW
 * @range: bytes of a range split over several slots, or 0 for one slot
 */
struct arch_hw_breakpoint {
	unsigned long	address;
	unsigned long	mask;
	u8		len;
	u8		type;
	u8		range;
};

#include <linux/kdebug.h>
#include <linux/percpu.h>

/*
 * Length and type as one slot's DR7 field holds them (the DR_LEN_* and
 * DR_RW_* values), each tagged with a bit above the 4-bit field so that
 * no valid encoding is zero. The tags never reach DR7.
 */
#define X86_BREAKPOINT_LEN_TAG		0x40
#define X86_BREAKPOINT_TYPE_TAG		0x80

#define X86_BREAKPOINT_LEN_1		(X86_BREAKPOINT_LEN_TAG | DR_LEN_1)
#define X86_BREAKPOINT_LEN_2		(X86_BREAKPOINT_LEN_TAG | DR_LEN_2)
#define X86_BREAKPOINT_LEN_4		(X86_BREAKPOINT_LEN_TAG | DR_LEN_4)
#ifdef CONFIG_X86_64
#define X86_BREAKPOINT_LEN_8		(X86_BREAKPOINT_LEN_TAG | DR_LEN_8)
#endif
/* Instruction breakpoints must use the 1-byte length encoding. */
#define X86_BREAKPOINT_LEN_X		X86_BREAKPOINT_LEN_1

#define X86_BREAKPOINT_EXECUTE		(X86_BREAKPOINT_TYPE_TAG | DR_RW_EXECUTE)
#define X86_BREAKPOINT_WRITE		(X86_BREAKPOINT_TYPE_TAG | DR_RW_WRITE)
/* DR_RW_READ traps on reads and writes: x86 has no read-only watchpoint. */
#define X86_BREAKPOINT_RW		(X86_BREAKPOINT_TYPE_TAG | DR_RW_READ)

/* The address registers, DR0-DR3. */
#define HBP_NUM				4

/*
 * The longest watchpoint split over several slots: one aligned piece of
 * at most sizeof(long) bytes in each.
 */
#define X86_BREAKPOINT_RANGE_MAX	(HBP_NUM * sizeof(long))
#define HW_BREAKPOINT_MAX_WATCH_LEN	X86_BREAKPOINT_RANGE_MAX

#define hw_breakpoint_slots(type)	(HBP_NUM)
#define HW_BREAKPOINT_MAX_REGS		HBP_NUM

struct perf_event_attr;
struct perf_event;

int arch_check_bp_in_kernelspace(struct arch_hw_breakpoint *hw);
int hw_breakpoint_arch_parse(struct perf_event *bp,
			     const struct perf_event_attr *attr,
			     struct arch_hw_breakpoint *hw);
int hw_breakpoint_exceptions_notify(struct notifier_block *unused,
				    unsigned long val, void *data);
/* The core chooses the register; these program and clear DRn. */
#define arch_hw_breakpoint_program arch_hw_breakpoint_program
/* A range takes one slot per aligned piece. */
#define arch_hw_breakpoint_weight arch_hw_breakpoint_weight
int arch_hw_breakpoint_weight(const struct perf_event_attr *attr);
/* kgdb's way in, outside perf: the core's install and uninstall. */
int arch_install_hw_breakpoint(struct perf_event *bp);
void arch_uninstall_hw_breakpoint(struct perf_event *bp);
void hw_breakpoint_pmu_read(struct perf_event *bp);

/* DR7 and generic encodings, for ptrace and kgdb. */
unsigned long encode_dr7(int drnum, unsigned int len, unsigned int type);
int decode_dr7(unsigned long dr7, int bpnum, unsigned int *len,
	       unsigned int *type);
int arch_bp_generic_fields(int x86_len, int x86_type, int *gen_len,
			   int *gen_type);

#endif /* _ASM_X86_HW_BREAKPOINT_H */
