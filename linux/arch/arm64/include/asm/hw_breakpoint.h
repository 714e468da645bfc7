/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * arm64 debug registers as the hardware-breakpoint subsystem sees them.
 *
 * Each CPU has between 2 and 16 breakpoint register pairs (DBGBVR<n>_EL1
 * holds an instruction address, DBGBCR<n>_EL1 controls it) and between 2
 * and 16 watchpoint pairs (DBGWVR<n>_EL1, DBGWCR<n>_EL1); ID_AA64DFR0_EL1
 * gives both counts. A control register selects the bytes of an aligned
 * granule (BAS), the exception levels that trap (PMC, plus HMC when the
 * kernel runs at EL2) and, for a watchpoint, loads and/or stores (LSC).
 * See Documentation/dev-tools/hw-breakpoint.rst.
 */
#ifndef __ASM_HW_BREAKPOINT_H
#define __ASM_HW_BREAKPOINT_H

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <asm/cputype.h>
#include <asm/cpufeature.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

/**
 * struct arch_hw_breakpoint_ctrl - the fields of one DBGBCR/DBGWCR value
 * @len: byte address select (BAS): bit i watches byte i of the granule
 * @type: load/store control (LSC); ARM_BREAKPOINT_EXECUTE for a breakpoint
 * @privilege: AARCH64_BREAKPOINT_EL0 or AARCH64_BREAKPOINT_EL1 (PMC)
 * @enabled: the enable bit as ptrace reports it
 *
 * ptrace's NT_ARM_HW_BREAK and NT_ARM_HW_WATCH regsets show user space
 * the register value encode_ctrl_reg() builds from these fields.
 */
struct arch_hw_breakpoint_ctrl {
	u8	len;
	u8	type;
	u8	privilege;
	u8	enabled;
};

/* A range watchpoint takes at most two MASK blocks, a pair each. */
#define ARM64_HWBP_MAX_BLOCKS	2

/**
 * struct arch_hw_breakpoint - one breakpoint, decoded for its register pairs
 * @address: the value register's contents: the granule's aligned address
 *	(a range watchpoint: its first block's)
 * @trigger: the address of the last hit (the PC or the reported data
 *	address), for the event's owner to read
 * @start: a range watchpoint's first byte
 * @size: a range watchpoint's length in bytes; accesses to the other bytes
 *	of its blocks trap but are not reported
 * @block: a range watchpoint's blocks: each one's aligned address
 * @mask: each block's DBGWCR.MASK: the block is BIT(@mask) bytes
 * @nr_blocks: 0 for one pair that selects bytes with BAS; else the range
 *	watchpoint's blocks, one pair each
 * @ctrl: the control register's fields (a range watchpoint: BAS 0xff)
 */
struct arch_hw_breakpoint {
	u64				address;
	u64				trigger;
	u64				start;
	u64				size;
	u64				block[ARM64_HWBP_MAX_BLOCKS];
	u8				mask[ARM64_HWBP_MAX_BLOCKS];
	u8				nr_blocks;
	struct arch_hw_breakpoint_ctrl	ctrl;
};

/**
 * struct arm64_hwbp_insn - one trapping instruction the step engine knows
 * @pc: the instruction's address
 * @sp: the stack pointer when it trapped. A re-execution after a signal
 *	handler or an interrupt ran in between comes back with the same one,
 *	which tells it from a new execution of the same instruction deeper in
 *	the stack
 * @kinds: the register kinds (BIT(0) breakpoints, BIT(1) watchpoints)
 *	whose events were told of this execution
 * @size: the instruction's size in bytes (2 for a 16-bit T32 one)
 * @irq_masked: (kernel) interrupts were masked in the stepped context for
 *	its step, to be unmasked when a step over it ends after it
 */
struct arm64_hwbp_insn {
	unsigned long	pc;
	unsigned long	sp;
	u8		kinds;
	u8		size;
	u8		irq_masked;
};

/* Diverted steps remembered per thread (user) or per CPU (kernel). */
#define ARM64_HWBP_DIVERTED	4

/**
 * struct arm64_hwbp_step - the steps over trapping instructions of one
 *	context
 * @cur: the instruction being stepped, when @armed
 * @diverted: instructions whose step something else (a signal handler,
 *	an interrupt) took over before they ran, oldest first; each is
 *	stepped again without a second report when it traps again
 * @nr_diverted: entries of @diverted in use
 * @armed: a step over @cur is in flight; its registers are masked
 * @foreign: (kernel) the single step was already kgdb's when the hit came;
 *	its exception is passed on
 *
 * One per thread for hits in user mode (in struct debug_info), one per
 * CPU for hits in the kernel; arch/arm64/kernel/hw_breakpoint.c owns it
 * and documents the rules.
 */
struct arm64_hwbp_step {
	struct arm64_hwbp_insn	cur;
	struct arm64_hwbp_insn	diverted[ARM64_HWBP_DIVERTED];
	u8			nr_diverted;
	u8			armed;
	u8			foreign;
};

/* Fields of DBGBCR<n>_EL1 and DBGWCR<n>_EL1 (Arm ARM D19.3). */
#define ARM_DBG_CTRL_E		BIT(0)		/* enable */
#define ARM_DBG_CTRL_PMC	GENMASK(2, 1)	/* privilege mode control */
#define ARM_DBG_CTRL_LSC	GENMASK(4, 3)	/* DBGWCR: load/store */
#define ARM_DBG_CTRL_BAS	GENMASK(12, 5)	/* byte address select */
#define ARM_DBG_CTRL_HMC	BIT(13)		/* also match at EL2 */
#define ARM_DBG_CTRL_BT		GENMASK(23, 20)	/* DBGBCR: 0, unlinked match */
#define ARM_DBG_CTRL_MASK	GENMASK(28, 24)	/* DBGWCR: address mask */

/*
 * DBGWCR.MASK: a watchpoint on the BIT(MASK) bytes at DBGWVR, aligned to
 * them, with BAS 0xff; 0 selects bytes with BAS instead. 1 and 2 are
 * reserved, so a block is 8 bytes to 2 GiB.
 */
#define ARM_WATCH_MASK_MIN	3
#define ARM_WATCH_MASK_MAX	31

/* PMC values: which exception levels the register traps at. */
#define AARCH64_BREAKPOINT_EL1	1
#define AARCH64_BREAKPOINT_EL0	2

/* LSC values; a breakpoint's field is 0. */
#define ARM_BREAKPOINT_EXECUTE	0
#define ARM_BREAKPOINT_LOAD	1
#define ARM_BREAKPOINT_STORE	2

/* BAS values for 1 to 8 bytes from the start of the granule. */
#define ARM_BREAKPOINT_LEN_1	0x01
#define ARM_BREAKPOINT_LEN_2	0x03
#define ARM_BREAKPOINT_LEN_3	0x07
#define ARM_BREAKPOINT_LEN_4	0x0f
#define ARM_BREAKPOINT_LEN_5	0x1f
#define ARM_BREAKPOINT_LEN_6	0x3f
#define ARM_BREAKPOINT_LEN_7	0x7f
#define ARM_BREAKPOINT_LEN_8	0xff

/* A watchpoint's granule; an AArch64 breakpoint is one 4-byte insn. */
#define ARM_WATCH_GRANULE	8
#define ARM_BREAK_GRANULE	4

/* The architecture's maximum of each kind, the size of ptrace's tables. */
#define ARM_MAX_BRP		16
#define ARM_MAX_WRP		16

/**
 * encode_ctrl_reg() - build a DBGBCR/DBGWCR value
 * @ctrl: its fields
 *
 * A kernel (EL1) breakpoint also sets HMC when the kernel runs at EL2
 * (VHE), where PMC alone would not match the kernel's own accesses.
 *
 * Return: the register value.
 */
static inline u32 encode_ctrl_reg(struct arch_hw_breakpoint_ctrl ctrl)
{
	u32 val = FIELD_PREP(ARM_DBG_CTRL_E, ctrl.enabled) |
		  FIELD_PREP(ARM_DBG_CTRL_PMC, ctrl.privilege) |
		  FIELD_PREP(ARM_DBG_CTRL_LSC, ctrl.type) |
		  FIELD_PREP(ARM_DBG_CTRL_BAS, ctrl.len);

	if (ctrl.privilege == AARCH64_BREAKPOINT_EL1 && is_kernel_in_hyp_mode())
		val |= ARM_DBG_CTRL_HMC;
	return val;
}

/**
 * decode_ctrl_reg() - split a DBGBCR/DBGWCR value into its fields
 * @reg: the value (from ptrace: other bits are ignored)
 * @ctrl: the fields, filled in
 */
static inline void decode_ctrl_reg(u32 reg, struct arch_hw_breakpoint_ctrl *ctrl)
{
	ctrl->enabled = FIELD_GET(ARM_DBG_CTRL_E, reg);
	ctrl->privilege = FIELD_GET(ARM_DBG_CTRL_PMC, reg);
	ctrl->type = FIELD_GET(ARM_DBG_CTRL_LSC, reg);
	ctrl->len = FIELD_GET(ARM_DBG_CTRL_BAS, reg);
}

struct task_struct;
struct notifier_block;
struct perf_event_attr;
struct perf_event;

int arch_bp_generic_fields(struct arch_hw_breakpoint_ctrl ctrl,
			   int *gen_len, int *gen_type, int *offset);
int arch_check_bp_in_kernelspace(struct arch_hw_breakpoint *hw);
int hw_breakpoint_arch_parse(struct perf_event *bp,
			     const struct perf_event_attr *attr,
			     struct arch_hw_breakpoint *hw);
int hw_breakpoint_exceptions_notify(struct notifier_block *unused,
				    unsigned long val, void *data);
/*
 * The longest watchpoint: a range of 2 GiB, over one or two MASK blocks
 * (BAS watches up to 8 bytes inside one aligned granule).
 */
#define HW_BREAKPOINT_MAX_WATCH_LEN	BIT_ULL(ARM_WATCH_MASK_MAX)

/* A range watchpoint may take two pairs. */
#define arch_hw_breakpoint_weight arch_hw_breakpoint_weight
int arch_hw_breakpoint_weight(const struct perf_event_attr *attr);

/* The core chooses the register pair; these program and clear it. */
#define arch_hw_breakpoint_program arch_hw_breakpoint_program
void hw_breakpoint_pmu_read(struct perf_event *bp);
int hw_breakpoint_slots(int type);

struct pt_regs;

#ifdef CONFIG_HAVE_HW_BREAKPOINT
void hw_breakpoint_thread_switch(struct task_struct *next);
void ptrace_hw_copy_thread(struct task_struct *task);
void hw_breakpoint_fixup(struct pt_regs *regs);
void hw_breakpoint_signal(struct pt_regs *regs);
#else
/* Without perf events there is no breakpoint to follow or to copy. */
static inline void hw_breakpoint_thread_switch(struct task_struct *next) { }
static inline void ptrace_hw_copy_thread(struct task_struct *task) { }
static inline void hw_breakpoint_fixup(struct pt_regs *regs) { }
static inline void hw_breakpoint_signal(struct pt_regs *regs) { }
#endif

/* The number of breakpoint register pairs every CPU has. */
static inline int get_num_brps(void)
{
	u64 dfr0 = read_sanitised_ftr_reg(SYS_ID_AA64DFR0_EL1);

	return 1 + cpuid_feature_extract_unsigned_field(dfr0,
						ID_AA64DFR0_EL1_BRPs_SHIFT);
}

/* The number of watchpoint register pairs every CPU has. */
static inline int get_num_wrps(void)
{
	u64 dfr0 = read_sanitised_ftr_reg(SYS_ID_AA64DFR0_EL1);

	return 1 + cpuid_feature_extract_unsigned_field(dfr0,
						ID_AA64DFR0_EL1_WRPs_SHIFT);
}

#ifdef CONFIG_CPU_PM
void cpu_suspend_set_dbg_restorer(int (*hw_bp_restore)(unsigned int));
#else
static inline void cpu_suspend_set_dbg_restorer(int (*hw_bp_restore)(unsigned int))
{
}
#endif

#endif /* __ASM_HW_BREAKPOINT_H */
