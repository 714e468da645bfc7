// SPDX-License-Identifier: GPL-2.0-only
/*
 * arm64 backend of the hardware-breakpoint subsystem: programs the
 * DBGBVR/DBGBCR and DBGWVR/DBGWCR register pairs and handles their
 * exceptions. The generic side (kernel/events/hw_breakpoint.c) decides
 * which events fit; this file puts them in registers and reports hits.
 *
 * Slots. Every CPU has hwbp_nr[HWBP_BRK] breakpoint and hwbp_nr[HWBP_WATCH]
 * watchpoint pairs, counted at boot from ID_AA64DFR0_EL1 (the sanitised
 * value: the lowest count of all CPUs). The core chooses the pair for
 * each event and records which event holds it in its register map
 * (hw_breakpoint_owner()); this file programs and clears the pair it is
 * given. Both change only with interrupts off on their own CPU (perf's
 * add and del), and the exception handlers run with interrupts off on
 * the same CPU, so they read them without locks; the events themselves
 * stay alive under RCU.
 *
 * Stepping over a hit. A breakpoint or watchpoint traps before its
 * instruction completes: returning to it would trap again. So, unless a
 * debugger owns the event (below), the instruction is stepped with the
 * trapping kinds of register masked on this CPU: hwbp_step_arm() masks
 * them and arms a software step; when the step exception comes,
 * try_step_suspended_breakpoints() unmasks them. The same code serves
 * breakpoints and watchpoints, user mode (state per thread) and the kernel
 * (state per CPU), whatever overflow handler the event has: perf's, a
 * kernel user's own, or perf's sigtrap.
 *
 * Who owns a step. In user mode, MDSCR_EL1.SS is set on the way out to a
 * thread that has TIF_SINGLESTEP (ptrace's PTRACE_SINGLESTEP, and uprobes'
 * out-of-line step) or TIF_HWBP_STEP (this file's step over a hit). The
 * two never touch each other's flag: PTRACE_CONT clears only ptrace's,
 * syscall exit and signal delivery report a step only for ptrace's, and
 * this file sets and clears only its own. When both are set, one step
 * exception serves both: this file ends its step, then passes the
 * exception on (do_el0_softstep()), so the debugger or uprobes sees its
 * step end one instruction later, as it would without the hit. In the
 * kernel, a step that kgdb had already armed when the hit came is
 * "foreign": its exception is passed on to kgdb.
 *
 * Diversions and replays. Between the trap and the step, something else
 * may run first: the handler of a signal (perf's sigtrap delivers one
 * there), or, for a kernel hit, an interrupt. In user mode handle_signal()
 * says so (hw_breakpoint_signal()); in the kernel the step ends in that
 * code instead, which hwbp_step_done() recognises (neither after the
 * instruction nor on its stack); or a hit in that code comes first. The
 * registers are unmasked, so that the handler is watched as usual, and the
 * instruction is remembered as diverted, with the kinds already reported.
 * When it traps again with the same PC and stack pointer, that is a replay:
 * it is stepped, and no event other than a debugger's is told a second
 * time. The diverted records form a short stack (ARM64_HWBP_DIVERTED per
 * thread and per CPU): a handler's own hits, or a signal nested in a
 * signal, push their records above the outer one, and a replay of the
 * outer instruction drops those above it, whose handlers are over. Each
 * execution of an instruction is reported once per event, and a sigtrap
 * handler cannot make its own instruction trap forever.
 *
 * Interrupts during a kernel step. A kernel hit's step masks interrupts in
 * the stepped context (PSTATE.I in the saved state), so that no interrupt
 * takes the step, unless the instruction reads or writes DAIF, raises an
 * exception or has an exception-table entry (hwbp_may_mask_irqs()): the
 * mask must be taken back when the step ends after the instruction, and
 * that is the only place it can be. Those few instructions are stepped
 * with interrupts as they were, and the replay rule covers an interrupt.
 *
 * Debuggers. ptrace's events (the thread's hbp_break[] and hbp_watch[])
 * are stepped over by the debugger, which is told of the hit with
 * SIGTRAP and single-steps the instruction with its registers disabled,
 * as the arm64 ptrace ABI has always had it; they are told of every trap.
 * A hit in the kernel (a user watchpoint touched by copy_to_user()) is
 * stepped here for everyone, and so is one on an instruction a uprobe is
 * stepping out of line, whose SIGTRAP waits for the end of that step.
 *
 * Watchpoint addresses. The data address the CPU reports (FAR) lies in
 * the access, but need not be a watched byte: an stp or a DC ZVA that
 * overlaps a watched range may report its first byte. Every watchpoint
 * that holds the reported byte is hit; if none does, the one nearest to
 * it is, among those whose load/store type matches the access.
 *
 * Range watchpoints. BAS selects up to 8 bytes of one aligned granule. A
 * longer range, or one across a granule, takes DBGWCR.MASK blocks: a
 * power of two from 8 bytes to 2 GiB at an address aligned to it, the
 * smallest that covers the range, or two, one each side of the largest
 * alignment boundary inside it, when one would be more than twice the
 * range (hwbp_range_blocks(): the weight the core reserves). A block
 * traps on all its bytes; an access to none of the range's own is
 * stepped over like any other but not reported.
 */

#define pr_fmt(fmt) "hw-breakpoint: " fmt

#include <linux/bitfield.h>
#include <linux/compat.h>
#include <linux/cpuhotplug.h>
#include <linux/extable.h>
#include <linux/hw_breakpoint.h>
#include <linux/kprobes.h>
#include <linux/perf_event.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>

#include <asm/debug-monitors.h>
#include <asm/esr.h>
#include <asm/exception.h>
#include <asm/insn.h>
#include <asm/patching.h>
#include <asm/sections.h>
#include <asm/sysreg.h>

/* The two kinds of register pair; BIT(kind) in arm64_hwbp_step.kinds. */
enum hwbp_kind {
	HWBP_BRK,
	HWBP_WATCH,
	HWBP_NR_KINDS,
};

/* Exception levels, as bits of a mask of registers to keep disabled. */
#define HWBP_EL0		BIT(0)
#define HWBP_EL1		BIT(1)

#define HWBP_MAX_SLOTS		16
static_assert(ARM_MAX_BRP == HWBP_MAX_SLOTS && ARM_MAX_WRP == HWBP_MAX_SLOTS);

/*
 * The control fields, their values and the bytes a BAS can select, as the
 * Arm ARM lays them out (DBGBCR<n>_EL1 / DBGWCR<n>_EL1).
 */
static_assert(ARM_DBG_CTRL_E == 0x1 && ARM_DBG_CTRL_PMC == 0x6 &&
	      ARM_DBG_CTRL_LSC == 0x18 && ARM_DBG_CTRL_BAS == 0x1fe0 &&
	      ARM_DBG_CTRL_HMC == 0x2000);
static_assert(!(ARM_DBG_CTRL_BAS & (ARM_DBG_CTRL_BT | ARM_DBG_CTRL_MASK)));
/* Does @v fit in the field @mask (a constant expression, unlike FIELD_FIT)? */
#define HWBP_FITS(mask, v)	((v) <= ((mask) >> __builtin_ctzl(mask)))
static_assert(HWBP_FITS(ARM_DBG_CTRL_PMC, AARCH64_BREAKPOINT_EL0) &&
	      HWBP_FITS(ARM_DBG_CTRL_PMC, AARCH64_BREAKPOINT_EL1));
static_assert(HWBP_FITS(ARM_DBG_CTRL_LSC,
			ARM_BREAKPOINT_LOAD | ARM_BREAKPOINT_STORE));
static_assert(HWBP_FITS(ARM_DBG_CTRL_BAS, ARM_BREAKPOINT_LEN_8));
static_assert(BIT(ARM_WATCH_GRANULE) - 1 == ARM_BREAKPOINT_LEN_8);
static_assert(BIT(ARM_BREAK_GRANULE) - 1 == ARM_BREAKPOINT_LEN_4);
/* The entry's step macros shift TIF_SINGLESTEP down onto TIF_HWBP_STEP. */
static_assert(TIF_HWBP_STEP < TIF_SINGLESTEP);

/*
 * Register banks. DBGBVR<n>_EL1, DBGBCR<n>_EL1, DBGWVR<n>_EL1 and
 * DBGWCR<n>_EL1 are S2_0_C0_C<n>_<4 + bank>.
 */
#define HWBP_BVR		0
#define HWBP_BCR		1
#define HWBP_WVR		2
#define HWBP_WCR		3
#define HWBP_NR_BANKS		4

static const u8 hwbp_value_bank[HWBP_NR_KINDS] = { HWBP_BVR, HWBP_WVR };
static const u8 hwbp_ctrl_bank[HWBP_NR_KINDS] = { HWBP_BCR, HWBP_WCR };

/**
 * struct hwbp_cpu - this CPU's debug registers, as this file keeps them
 * @value: the value register of each held pair (a range watchpoint's
 *	pairs hold its blocks), for a CPU resuming
 * @ctrl: the control value of each held pair, enabled
 * @used: per kind, a bit for each held pair
 * @el1: per kind, a bit for each held pair that watches the kernel
 * @user_mask: per kind, exception levels kept disabled for the running
 *	thread's step in user mode (that thread's step.kinds)
 * @kernel_mask: per kind, exception levels kept disabled for @kstep
 * @kstep: the step over a hit taken in the kernel on this CPU
 *
 * Only this CPU touches it, with interrupts off. @ctrl, @used and @el1
 * follow the core's register map, set after it names a pair's owner and
 * cleared before it drops it, so that a hit and its step, which mask and
 * unmask registers twice, find the live ones without reading the events,
 * and every live pair has an owner. @value is written before the pair.
 */
struct hwbp_cpu {
	u64			value[HWBP_NR_KINDS][HWBP_MAX_SLOTS];
	u32			ctrl[HWBP_NR_KINDS][HWBP_MAX_SLOTS];
	u16			used[HWBP_NR_KINDS];
	u16			el1[HWBP_NR_KINDS];
	u8			user_mask[HWBP_NR_KINDS];
	u8			kernel_mask[HWBP_NR_KINDS];
	struct arm64_hwbp_step	kstep;
};

static DEFINE_PER_CPU(struct hwbp_cpu, hwbp_cpu);

/* The core's kinds of register are this file's, by number. */
static_assert((int)HWBP_BRK == (int)TYPE_INST && (int)HWBP_WATCH == (int)TYPE_DATA);
static_assert(HW_BREAKPOINT_MAX_REGS == HWBP_MAX_SLOTS);

/* Register pairs of each kind on every CPU; set once at boot. */
static unsigned int hwbp_nr[HWBP_NR_KINDS] __ro_after_init;

int hw_breakpoint_slots(int type)
{
	/* Asked before this file's initcall: read the ID register itself. */
	if (type == TYPE_INST)
		return get_num_brps();
	return type == TYPE_DATA ? get_num_wrps() : 0;
}

/*
 * MSR takes the register as an immediate: one writer per register,
 * indexed by bank and number.
 */
#define HWBP_WRITER(bank, n)						\
static void __kprobes hwbp_w_##bank##_##n(u64 val)			\
{									\
	write_sysreg_s(val, sys_reg(2, 0, 0, n, 4 + (bank)));		\
}

HWBP_WRITER(0, 0) HWBP_WRITER(1, 0) HWBP_WRITER(2, 0) HWBP_WRITER(3, 0)
HWBP_WRITER(0, 1) HWBP_WRITER(1, 1) HWBP_WRITER(2, 1) HWBP_WRITER(3, 1)
HWBP_WRITER(0, 2) HWBP_WRITER(1, 2) HWBP_WRITER(2, 2) HWBP_WRITER(3, 2)
HWBP_WRITER(0, 3) HWBP_WRITER(1, 3) HWBP_WRITER(2, 3) HWBP_WRITER(3, 3)
HWBP_WRITER(0, 4) HWBP_WRITER(1, 4) HWBP_WRITER(2, 4) HWBP_WRITER(3, 4)
HWBP_WRITER(0, 5) HWBP_WRITER(1, 5) HWBP_WRITER(2, 5) HWBP_WRITER(3, 5)
HWBP_WRITER(0, 6) HWBP_WRITER(1, 6) HWBP_WRITER(2, 6) HWBP_WRITER(3, 6)
HWBP_WRITER(0, 7) HWBP_WRITER(1, 7) HWBP_WRITER(2, 7) HWBP_WRITER(3, 7)
HWBP_WRITER(0, 8) HWBP_WRITER(1, 8) HWBP_WRITER(2, 8) HWBP_WRITER(3, 8)
HWBP_WRITER(0, 9) HWBP_WRITER(1, 9) HWBP_WRITER(2, 9) HWBP_WRITER(3, 9)
HWBP_WRITER(0, 10) HWBP_WRITER(1, 10) HWBP_WRITER(2, 10) HWBP_WRITER(3, 10)
HWBP_WRITER(0, 11) HWBP_WRITER(1, 11) HWBP_WRITER(2, 11) HWBP_WRITER(3, 11)
HWBP_WRITER(0, 12) HWBP_WRITER(1, 12) HWBP_WRITER(2, 12) HWBP_WRITER(3, 12)
HWBP_WRITER(0, 13) HWBP_WRITER(1, 13) HWBP_WRITER(2, 13) HWBP_WRITER(3, 13)
HWBP_WRITER(0, 14) HWBP_WRITER(1, 14) HWBP_WRITER(2, 14) HWBP_WRITER(3, 14)
HWBP_WRITER(0, 15) HWBP_WRITER(1, 15) HWBP_WRITER(2, 15) HWBP_WRITER(3, 15)

static void (* const hwbp_writers[HWBP_NR_BANKS][HWBP_MAX_SLOTS])(u64) = {
	{
		hwbp_w_0_0, hwbp_w_0_1, hwbp_w_0_2, hwbp_w_0_3, hwbp_w_0_4,
		hwbp_w_0_5, hwbp_w_0_6, hwbp_w_0_7, hwbp_w_0_8, hwbp_w_0_9,
		hwbp_w_0_10, hwbp_w_0_11, hwbp_w_0_12, hwbp_w_0_13,
		hwbp_w_0_14, hwbp_w_0_15,
	},
	{
		hwbp_w_1_0, hwbp_w_1_1, hwbp_w_1_2, hwbp_w_1_3, hwbp_w_1_4,
		hwbp_w_1_5, hwbp_w_1_6, hwbp_w_1_7, hwbp_w_1_8, hwbp_w_1_9,
		hwbp_w_1_10, hwbp_w_1_11, hwbp_w_1_12, hwbp_w_1_13,
		hwbp_w_1_14, hwbp_w_1_15,
	},
	{
		hwbp_w_2_0, hwbp_w_2_1, hwbp_w_2_2, hwbp_w_2_3, hwbp_w_2_4,
		hwbp_w_2_5, hwbp_w_2_6, hwbp_w_2_7, hwbp_w_2_8, hwbp_w_2_9,
		hwbp_w_2_10, hwbp_w_2_11, hwbp_w_2_12, hwbp_w_2_13,
		hwbp_w_2_14, hwbp_w_2_15,
	},
	{
		hwbp_w_3_0, hwbp_w_3_1, hwbp_w_3_2, hwbp_w_3_3, hwbp_w_3_4,
		hwbp_w_3_5, hwbp_w_3_6, hwbp_w_3_7, hwbp_w_3_8, hwbp_w_3_9,
		hwbp_w_3_10, hwbp_w_3_11, hwbp_w_3_12, hwbp_w_3_13,
		hwbp_w_3_14, hwbp_w_3_15,
	},
};

static void __kprobes hwbp_write(unsigned int bank, unsigned int n, u64 val)
{
	hwbp_writers[bank][n](val);
}

static enum hwbp_kind hwbp_kind(const struct arch_hw_breakpoint *info)
{
	return info->ctrl.type == ARM_BREAKPOINT_EXECUTE ? HWBP_BRK : HWBP_WATCH;
}

static u8 hwbp_level(const struct arch_hw_breakpoint *info)
{
	return info->ctrl.privilege == AARCH64_BREAKPOINT_EL1 ? HWBP_EL1 : HWBP_EL0;
}

/*
 * Take or drop the debug monitors (MDSCR_EL1.MDE, and KDE for EL1) a
 * register needs. A user watchpoint needs the EL1 ones too: the kernel's
 * uaccess (LDTR/STTR) is checked against EL0 watchpoints, and its hits are
 * reported like the user's own. The EL1 reference counts MDE as well, so
 * one call does: a context switch installs and removes a thread's
 * watchpoints, and each MDSCR_EL1 update is a write and a barrier.
 */
static void hwbp_monitors(const struct arch_hw_breakpoint *info, bool take)
{
	enum dbg_active_el el = hwbp_level(info) == HWBP_EL1 ||
				hwbp_kind(info) == HWBP_WATCH ?
				DBG_ACTIVE_EL1 : DBG_ACTIVE_EL0;

	if (take)
		enable_debug_monitors(el);
	else
		disable_debug_monitors(el);
}

/* The held pairs of @kind that are enabled: held and not masked. */
static __always_inline u16 hwbp_live_slots(const struct hwbp_cpu *hc,
					   enum hwbp_kind kind)
{
	u8 masked = hc->user_mask[kind] | hc->kernel_mask[kind];
	u16 off = 0;

	if (masked & HWBP_EL0)
		off |= hc->used[kind] & ~hc->el1[kind];
	if (masked & HWBP_EL1)
		off |= hc->el1[kind];
	return hc->used[kind] & ~off;
}

/* Write slot @n's control register: enabled if it is in @live. */
static __always_inline void hwbp_put_ctrl(const struct hwbp_cpu *hc,
					  enum hwbp_kind kind, unsigned int n,
					  u16 live)
{
	u32 val = hc->ctrl[kind][n];	/* 0 for a free pair */

	if (!(live & BIT(n)))
		val &= ~ARM_DBG_CTRL_E;
	hwbp_write(hwbp_ctrl_bank[kind], n, val);
}

static void __kprobes hwbp_write_ctrl(const struct hwbp_cpu *hc,
				      enum hwbp_kind kind, unsigned int n)
{
	hwbp_put_ctrl(hc, kind, n, hwbp_live_slots(hc, kind));
}

/*
 * A mask of @kind changed: rewrite the control registers of the pairs
 * whose state it changed, from the live ones @before.
 */
static __always_inline void hwbp_apply_masks(const struct hwbp_cpu *hc,
					     enum hwbp_kind kind, u16 before)
{
	u16 live = hwbp_live_slots(hc, kind);
	unsigned long changed = before ^ live;
	unsigned int n;

	for_each_set_bit(n, &changed, HWBP_MAX_SLOTS)
		hwbp_put_ctrl(hc, kind, n, live);
}

/* The value and enabled control register of piece @piece of an event. */
static u32 hwbp_piece(const struct arch_hw_breakpoint *info, int piece,
		      u64 *addr)
{
	struct arch_hw_breakpoint_ctrl ctrl = info->ctrl;
	u32 val;

	ctrl.enabled = 1;
	val = encode_ctrl_reg(ctrl);
	*addr = info->address;
	if (info->nr_blocks) {
		*addr = info->block[piece];
		val |= FIELD_PREP(ARM_DBG_CTRL_MASK, info->mask[piece]);
	}
	return val;
}

/**
 * arch_hw_breakpoint_program() - put an event in a register pair
 * @bp: the event, already accepted by hw_breakpoint_arch_parse()
 * @piece: which of its pairs: a range watchpoint's block, else 0
 * @n: the pair of its kind, free, chosen by the core
 *
 * Called by hw_breakpoint_install() with interrupts off on the CPU that
 * is to watch.
 */
void arch_hw_breakpoint_program(struct perf_event *bp, int piece, int n)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	struct arch_hw_breakpoint *info = counter_arch_bp(bp);
	enum hwbp_kind kind = hwbp_kind(info);
	u64 addr;
	u32 val;

	lockdep_assert_irqs_disabled();
	val = hwbp_piece(info, piece, &addr);
	hc->value[kind][n] = addr;
	hc->ctrl[kind][n] = val;
	hc->used[kind] |= BIT(n);
	if (hwbp_level(info) == HWBP_EL1)
		hc->el1[kind] |= BIT(n);
	hwbp_monitors(info, true);
	hwbp_write(hwbp_value_bank[kind], n, addr);
	hwbp_write_ctrl(hc, kind, n);
	isb();
}

/**
 * arch_hw_breakpoint_move() - point a pair an event holds at its new address
 * @bp: the event, whose arch info modify_local_hw_breakpoint_addr() just
 *	changed (same kind, level and number of pairs; BAS and MASK may
 *	differ)
 * @piece: the piece pair @n holds
 * @n: the pair
 *
 * The control register is off while the value changes, so the pair never
 * matches with the old BAS on the new address; the accesses it misses
 * meanwhile are this function's own. The cache is written first: the
 * step engine, which masks and unmasks pairs from it (and may run around
 * an NMI that moves a pair), then enables the new control value, and a
 * masked pair stays masked.
 *
 * Called with interrupts off, or in NMI, never during a change of this
 * CPU's register map.
 */
void arch_hw_breakpoint_move(struct perf_event *bp, int piece, int n)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	struct arch_hw_breakpoint *info = counter_arch_bp(bp);
	enum hwbp_kind kind = hwbp_kind(info);
	u64 addr;
	u32 val;

	val = hwbp_piece(info, piece, &addr);
	hc->value[kind][n] = addr;
	hc->ctrl[kind][n] = val;
	hwbp_write(hwbp_ctrl_bank[kind], n, 0);
	isb();
	hwbp_write(hwbp_value_bank[kind], n, addr);
	hwbp_write_ctrl(hc, kind, n);
	isb();
}

/**
 * arch_hw_breakpoint_clear() - disable the register pair an event holds
 * @bp: the event
 * @n: the pair, one the core gave it
 *
 * Called by hw_breakpoint_uninstall() with interrupts off on the CPU the
 * event was installed on.
 */
void arch_hw_breakpoint_clear(struct perf_event *bp, int n)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	struct arch_hw_breakpoint *info = counter_arch_bp(bp);
	enum hwbp_kind kind = hwbp_kind(info);

	lockdep_assert_irqs_disabled();
	hc->ctrl[kind][n] = 0;
	hc->used[kind] &= ~BIT(n);
	hc->el1[kind] &= ~BIT(n);
	hwbp_write(hwbp_ctrl_bank[kind], n, 0);
	isb();
	hwbp_monitors(info, false);
}

/* === Parsing: perf attributes to register fields, and back === */

/* The smallest MASK whose aligned block holds both @first and @last. */
static unsigned int hwbp_mask_for(u64 first, u64 last)
{
	return max_t(unsigned int, ARM_WATCH_MASK_MIN, fls64(first ^ last));
}

/*
 * The MASK blocks that cover the @size bytes at @start (@size at most
 * HW_BREAKPOINT_MAX_WATCH_LEN, not wrapping): one, the smallest aligned
 * block that holds them all, if it is at most twice the range; otherwise
 * two, split at the boundary where the range's first and last addresses
 * start to differ (aligned to half that block), each the smallest that
 * holds its side: neither side is longer than the range, so neither
 * block exceeds 2 GiB. Fills @block and @mask; returns the number of
 * blocks.
 */
static int hwbp_range_blocks(u64 start, u64 size, u64 *block, u8 *mask)
{
	u64 last = start + size - 1, edge;
	unsigned int m = hwbp_mask_for(start, last);

	if (m <= ARM_WATCH_MASK_MAX && BIT_ULL(m) <= 2 * size) {
		mask[0] = m;
		block[0] = start & ~(BIT_ULL(m) - 1);
		return 1;
	}
	edge = last & ~(BIT_ULL(m - 1) - 1);
	mask[0] = hwbp_mask_for(start, edge - 1);
	mask[1] = hwbp_mask_for(edge, last);
	block[0] = start & ~(BIT_ULL(mask[0]) - 1);
	block[1] = edge;
	return 2;
}

/* A watchpoint BAS cannot select: longer than, or across, a granule. */
static bool hwbp_is_range(u64 addr, u64 len)
{
	return (addr & (ARM_WATCH_GRANULE - 1)) + len > ARM_WATCH_GRANULE;
}

/*
 * Is @bp one of its task's ptrace watchpoints? Those stay BAS-only: the
 * NT_ARM_HW_WATCH regset shows a debugger DBGWVR and a BAS, and has no
 * MASK. ptrace creates each one disabled at address 0 and only then puts
 * it in the thread's table, so every later change finds it there; the
 * debugger holds the tracee stopped meanwhile.
 */
static bool hwbp_ptrace_watch(struct perf_event *bp)
{
	struct task_struct *tsk = bp->hw.target;
	unsigned int i;

	if (!tsk || is_default_overflow_handler(bp))
		return false;
	for (i = 0; i < ARM_MAX_WRP; i++)
		if (tsk->thread.debug.hbp_watch[i] == bp)
			return true;
	return false;
}

/**
 * arch_hw_breakpoint_weight() - the register pairs a breakpoint takes
 * @attr: its attributes, as hw_breakpoint_arch_parse() accepted them
 *
 * Return: the range watchpoint's MASK blocks (1 or 2), else 1.
 */
int arch_hw_breakpoint_weight(const struct perf_event_attr *attr)
{
	u64 block[ARM64_HWBP_MAX_BLOCKS];
	u8 mask[ARM64_HWBP_MAX_BLOCKS];

	if (!(attr->bp_type & HW_BREAKPOINT_RW) ||
	    !hwbp_is_range(attr->bp_addr, attr->bp_len) ||
	    attr->bp_len > HW_BREAKPOINT_MAX_WATCH_LEN ||
	    attr->bp_addr + attr->bp_len - 1 < attr->bp_addr)
		return 1;
	return hwbp_range_blocks(attr->bp_addr, attr->bp_len, block, mask);
}

static bool hwbp_compat(struct perf_event *bp)
{
	struct task_struct *tsk = bp->hw.target;

	/* CPU-bound events have no task: they use the AArch64 rules. */
	return tsk && is_compat_thread(task_thread_info(tsk));
}

/* A kernel breakpoint may not sit where the debug exception runs first. */
static bool hwbp_forbidden_text(unsigned long addr)
{
	if (addr >= (unsigned long)__noinstr_text_start &&
	    addr < (unsigned long)__noinstr_text_end)
		return true;
	if (addr >= (unsigned long)__entry_text_start &&
	    addr < (unsigned long)__entry_text_end)
		return true;
	if (IS_ENABLED(CONFIG_KPROBES))
		return within_kprobe_blacklist(addr);
	return false;
}

/**
 * hw_breakpoint_arch_parse() - check a breakpoint and encode it
 * @bp: the event (its task decides between the AArch64 and AArch32 rules)
 * @attr: the requested address, length and type
 * @hw: filled in: aligned address, BAS, LSC and exception level
 *
 * An AArch64 breakpoint is one instruction: length 4 (perf's default of
 * sizeof(long) is accepted as 4). An AArch32 one is 2 (Thumb) or 4 bytes;
 * 4 bytes on a halfword boundary (a 32-bit T32 instruction) watch its
 * first halfword.
 * A watchpoint is 1 to 8 bytes inside one 8-byte granule (AArch32: one
 * 4-byte word, or an aligned 8 bytes), selected with BAS; any other range
 * of up to 2 GiB takes one or two MASK blocks (see "Range watchpoints"
 * above). The address decides the exception level; a kernel address must
 * be CPU-bound, since the kernel steps over its own hits per CPU.
 *
 * Return: 0 or -EINVAL.
 */
int hw_breakpoint_arch_parse(struct perf_event *bp,
			     const struct perf_event_attr *attr,
			     struct arch_hw_breakpoint *hw)
{
	bool compat = hwbp_compat(bp);
	u64 len = attr->bp_len, addr = attr->bp_addr, granule, offset;

	memset(hw, 0, sizeof(*hw));
	switch (attr->bp_type) {
	case HW_BREAKPOINT_X:
		hw->ctrl.type = ARM_BREAKPOINT_EXECUTE;
		if (!compat && len == sizeof(long))
			len = ARM_BREAK_GRANULE;
		if (len != ARM_BREAK_GRANULE && !(compat && len == 2))
			return -EINVAL;
		/*
		 * A 32-bit T32 instruction on a halfword boundary: the
		 * architecture matches it on its first halfword (BAS 0b1100).
		 * gdb asks for 4 bytes there, and ptrace first moves a
		 * breakpoint of the default length to the new address.
		 */
		if (compat && len == ARM_BREAK_GRANULE && (addr & 2))
			len = 2;
		/* No instruction starts on an odd address (BAS 0b0110 is reserved). */
		if (addr & 1)
			return -EINVAL;
		granule = ARM_BREAK_GRANULE;
		break;
	case HW_BREAKPOINT_R:
		hw->ctrl.type = ARM_BREAKPOINT_LOAD;
		goto watch;
	case HW_BREAKPOINT_W:
		hw->ctrl.type = ARM_BREAKPOINT_STORE;
		goto watch;
	case HW_BREAKPOINT_RW:
		hw->ctrl.type = ARM_BREAKPOINT_LOAD | ARM_BREAKPOINT_STORE;
watch:
		if (len < 1 || len > HW_BREAKPOINT_MAX_WATCH_LEN)
			return -EINVAL;
		granule = compat && len < 8 ? 4 : ARM_WATCH_GRANULE;
		break;
	default:
		return -EINVAL;
	}

	/*
	 * Every byte in user space (TTBR0) or in the kernel (TTBR1): not
	 * across the boundary, not in the hole between the two halves.
	 */
	if (addr + len - 1 < addr)
		return -EINVAL;
	offset = addr & (granule - 1);
	if (offset + len <= granule) {
		hw->address = addr - offset;
		hw->ctrl.len = (BIT(len) - 1) << offset;
	} else if (hw->ctrl.type != ARM_BREAKPOINT_EXECUTE &&
		   hwbp_is_range(addr, len) && !hwbp_ptrace_watch(bp)) {
		/* arch_hw_breakpoint_weight() counted these blocks. */
		hw->nr_blocks = hwbp_range_blocks(addr, len, hw->block,
						  hw->mask);
		hw->start = addr;
		hw->size = len;
		hw->address = hw->block[0];
		hw->ctrl.len = ARM_BREAKPOINT_LEN_8;
	} else {
		return -EINVAL;
	}

	if (addr + len - 1 < TASK_SIZE_MAX) {
		hw->ctrl.privilege = AARCH64_BREAKPOINT_EL0;
	} else {
		if (addr < PAGE_OFFSET)
			return -EINVAL;
		if (bp->hw.target)
			return -EINVAL;
		if (hw->ctrl.type == ARM_BREAKPOINT_EXECUTE &&
		    hwbp_forbidden_text(addr))
			return -EINVAL;
		hw->ctrl.privilege = AARCH64_BREAKPOINT_EL1;
	}
	hw->ctrl.enabled = !attr->disabled;
	return 0;
}

/**
 * arch_check_bp_in_kernelspace() - does a parsed breakpoint watch the kernel?
 * @hw: the result of hw_breakpoint_arch_parse()
 *
 * Return: non-zero for an EL1 (kernel) breakpoint.
 */
int arch_check_bp_in_kernelspace(struct arch_hw_breakpoint *hw)
{
	return hw->ctrl.privilege == AARCH64_BREAKPOINT_EL1;
}

/**
 * arch_bp_generic_fields() - the generic length, type and offset of a
 *	control value, for ptrace
 * @ctrl: the fields user space wrote
 * @gen_len: the number of bytes BAS selects
 * @gen_type: HW_BREAKPOINT_X, _R, _W or _RW
 * @offset: the first selected byte's offset in the granule
 *
 * Return: 0, or -EINVAL if the type is not one of those or BAS is empty
 * or has a hole.
 */
int arch_bp_generic_fields(struct arch_hw_breakpoint_ctrl ctrl,
			   int *gen_len, int *gen_type, int *offset)
{
	static const int types[] = {
		[ARM_BREAKPOINT_EXECUTE] = HW_BREAKPOINT_X,
		[ARM_BREAKPOINT_LOAD] = HW_BREAKPOINT_R,
		[ARM_BREAKPOINT_STORE] = HW_BREAKPOINT_W,
		[ARM_BREAKPOINT_LOAD | ARM_BREAKPOINT_STORE] = HW_BREAKPOINT_RW,
	};
	unsigned int bas = ctrl.len, first, count;

	if (ctrl.type >= ARRAY_SIZE(types) || !bas)
		return -EINVAL;
	first = __ffs(bas);
	count = hweight8(bas);
	if (bas >> first != BIT(count) - 1)
		return -EINVAL;
	*gen_type = types[ctrl.type];
	*gen_len = count;
	*offset = first;
	return 0;
}

/* === Hits and the step over them === */

static struct arm64_hwbp_step *__kprobes
hwbp_step_of(struct hwbp_cpu *hc, struct pt_regs *regs)
{
	return user_mode(regs) ? &current->thread.debug.step : &hc->kstep;
}

/* The trapping context's own stack pointer (r13 for an AArch32 thread). */
static unsigned long __kprobes hwbp_sp(struct pt_regs *regs)
{
	return user_stack_pointer(regs);
}

/* The size of the instruction at regs->pc: A64 and A32 4, T32 2 or 4. */
static u8 __kprobes hwbp_insn_size(struct pt_regs *regs)
{
	__le16 half;

	if (!compat_user_mode(regs) || !compat_thumb_mode(regs))
		return AARCH64_INSN_SIZE;
	if (copy_from_user_nofault(&half, (void __user *)regs->pc,
				   sizeof(half)))
		return sizeof(half);
	return aarch32_insn_is_wide(le16_to_cpu(half)) ? 4 : 2;
}

static bool __kprobes hwbp_same_insn(const struct arm64_hwbp_insn *in,
				     struct pt_regs *regs)
{
	return in->pc == regs->pc && in->sp == hwbp_sp(regs);
}

/* Remember @st->cur as diverted; the oldest record makes room if needed. */
static void __kprobes hwbp_push_diverted(struct arm64_hwbp_step *st)
{
	if (st->nr_diverted == ARM64_HWBP_DIVERTED) {
		memmove(&st->diverted[0], &st->diverted[1],
			sizeof(st->diverted[0]) * (ARM64_HWBP_DIVERTED - 1));
		st->nr_diverted--;
	}
	st->diverted[st->nr_diverted++] = st->cur;
	st->armed = 0;
}

/*
 * A hit at regs->pc: make its instruction @st->cur. A step still armed for
 * another instruction was diverted there before its step exception came
 * (the diversion's first instruction trapped). An instruction found among
 * the diverted ones is a re-execution: its record, with the kinds already
 * reported, becomes current, and the records after it go, since their
 * diversions were nested in its own and are over.
 */
static void __kprobes hwbp_step_begin(struct arm64_hwbp_step *st,
				      struct pt_regs *regs)
{
	int i;

	if (st->armed) {
		if (hwbp_same_insn(&st->cur, regs))
			return;
		hwbp_push_diverted(st);
	}
	for (i = st->nr_diverted - 1; i >= 0; i--) {
		if (hwbp_same_insn(&st->diverted[i], regs)) {
			st->cur = st->diverted[i];
			st->nr_diverted = i;
			return;
		}
	}
	st->cur.pc = regs->pc;
	st->cur.sp = hwbp_sp(regs);
	st->cur.size = hwbp_insn_size(regs);
	st->cur.kinds = 0;
	st->cur.irq_masked = 0;
}

/*
 * Did the step execute the instruction? In the kernel, then the PC is
 * past it, or, for a branch, the stack pointer is unchanged (a branch
 * never writes it): an exception stack always moves the stack pointer,
 * and nothing else than the instruction runs between the trap and the
 * step.
 * A PC still on the instruction means it never ran (a pending step, or a
 * debugger rewound the state machine).
 */
static bool __kprobes hwbp_step_done(const struct arm64_hwbp_insn *in,
				     struct pt_regs *regs)
{
	if (regs->pc == in->pc)
		return false;
	/*
	 * In user mode only a signal diverts a step, and handle_signal()
	 * says so (hw_breakpoint_signal()): anything else ran the
	 * instruction, a POP {..., PC} or a sigreturn moving both PC and SP.
	 */
	if (user_mode(regs))
		return true;
	return regs->pc == in->pc + in->size || hwbp_sp(regs) == in->sp;
}

/* Is @bp one of the current thread's ptrace breakpoints? */
static bool __kprobes
hwbp_debugger_owned(struct perf_event *bp)
{
	struct debug_info *dbg = &current->thread.debug;
	unsigned int i;

	/*
	 * ptrace's events have their own overflow handler: a perf user's
	 * hit is told apart without the walk below.
	 */
	if (bp->hw.target != current || is_default_overflow_handler(bp))
		return false;
	for (i = 0; i < ARM_MAX_BRP; i++)
		if (dbg->hbp_break[i] == bp)
			return true;
	for (i = 0; i < ARM_MAX_WRP; i++)
		if (dbg->hbp_watch[i] == bp)
			return true;
	return false;
}

/*
 * In the middle of a uprobe's out-of-line step, a thread cannot take the
 * debugger's SIGTRAP before the step is over (uprobe_deny_signal() holds
 * it back), and the instruction, left for the debugger to step over, would
 * trap again forever. So there a debugger's hit is stepped over here like
 * anyone's, and the debugger's signal arrives once the instruction ran.
 */
static bool __kprobes hwbp_in_uprobe_step(void)
{
#ifdef CONFIG_UPROBES
	struct uprobe_task *utask = current->utask;

	return utask && utask->state == UTASK_SSTEP;
#else
	return false;
#endif
}

/* What delivering the hits of one exception found (hwbp_report()). */
struct hwbp_hit {
	bool	replay;		/* the instruction's @kind was reported */
	bool	debugger;	/* a ptrace event hit in user mode */
	bool	reported;	/* an event other than those was told */
};

/*
 * Deliver a hit to its event. A ptrace event hit in user mode is told of
 * every trap: the debugger steps over the instruction itself, as the arm64
 * ptrace ABI has always had it. Every other event is told once per
 * execution of the instruction, so not on a replay.
 */
static void __kprobes hwbp_report(struct perf_event *bp, unsigned long trigger,
				  struct pt_regs *regs, struct hwbp_hit *hit)
{
	bool debugger = user_mode(regs) && hwbp_debugger_owned(bp) &&
			!hwbp_in_uprobe_step();

	if (hit->replay && !debugger)
		return;
	counter_arch_bp(bp)->trigger = trigger;
	perf_bp_event(bp, regs);
	if (debugger)
		hit->debugger = true;
	else
		hit->reported = true;
}

/*
 * The data access an A64 load or store makes: the classes of the Arm ARM
 * (C4.1.66 "Loads and Stores") a watchpoint can trap on, by fixed bits.
 */
#define LDST_IMM12_MASK		0x3b000000	/* LDR/STR, unsigned imm12 */
#define LDST_IMM12_VAL		0x39000000
#define LDST_IMM9_MASK		0x3b200000	/* LDUR/STUR, LDTR/STTR, */
#define LDST_IMM9_VAL		0x38000000	/* pre- and post-index */
#define LDST_REGOFF_MASK	0x3b200c00	/* LDR/STR, register offset */
#define LDST_REGOFF_VAL		0x38200800
#define LDST_ATOMIC_MASK	0x3b200c00	/* LDADD, SWP, CAS-like AMOs */
#define LDST_ATOMIC_VAL		0x38200000
#define LDST_PAIR_MASK		0x3a000000	/* LDP/STP, LDNP/STNP, LDPSW */
#define LDST_PAIR_VAL		0x28000000
#define LDST_EXCL_MASK		0x3f000000	/* LDXR/STXR, LDAR/STLR, CAS(P) */
#define LDST_EXCL_VAL		0x08000000
#define LDST_LIT_MASK		0x3b000000	/* LDR (literal) */
#define LDST_LIT_VAL		0x18000000
#define LDST_MULT_MASK		0xbf200000	/* LD1-4/ST1-4, multiple */
#define LDST_MULT_VAL		0x0c000000
#define LDST_SINGLE_MASK	0xbf000000	/* LD1-4/ST1-4 lane, LDnR */
#define LDST_SINGLE_VAL		0x0d000000

#define LDST_SIZE(insn)		((insn) >> 30)
#define LDST_V(insn)		(((insn) >> 26) & 1)
#define LDST_OPC(insn)		(((insn) >> 22) & 3)
#define LDST_RN(insn)		(((insn) >> 5) & 0x1f)
#define LDST_RM(insn)		(((insn) >> 16) & 0x1f)
#define LDST_IMM9_MODE(insn)	(((insn) >> 10) & 3)	/* 1: post-index */
#define LDST_PAIR_MODE(insn)	(((insn) >> 23) & 3)	/* 1: post-index */
#define LDST_EXCL_PAIR(insn)	(((insn) >> 21) & 1)	/* o1 */
#define LDST_EXCL_O2(insn)	(((insn) >> 23) & 1)
#define LDST_PAIR_SZ(insn)	(((insn) >> 30) & 1)
#define LDST_SIMD_Q(insn)	(((insn) >> 30) & 1)
#define LDST_SIMD_OPCODE(insn)	(((insn) >> 12) & 0xf)
#define LDST_SIMD_R(insn)	(((insn) >> 21) & 1)

static u64 __kprobes hwbp_xreg(const struct pt_regs *regs, unsigned int n,
			       bool sp)
{
	if (n == 31)
		return sp ? regs->sp : 0;
	return regs->regs[n];
}

/* Xm extended and shifted as a register-offset address uses it. */
static u64 __kprobes hwbp_offset_reg(const struct pt_regs *regs, u32 insn,
				     unsigned int scale)
{
	u64 m = hwbp_xreg(regs, LDST_RM(insn), false);
	unsigned int option = (insn >> 13) & 7;

	if (!(option & 1))		/* UXTW, SXTW: a 32-bit index */
		m = option & 4 ? (u64)(s64)(s32)m : (u32)m;
	return (insn & BIT(12)) ? m << scale : m;
}

/*
 * Decode the load or store @insn at regs->pc into the bytes it accesses,
 * [*start, *start + *len). Returns false for what it does not know (SVE,
 * DC ZVA, LDAPUR/STLUR, AArch32): then the reported address decides.
 */
static bool __kprobes
hwbp_decode_access(u32 insn, const struct pt_regs *regs, u64 *start, u64 *len)
{
	unsigned int scale = LDST_SIZE(insn);
	u64 base = hwbp_xreg(regs, LDST_RN(insn), true);

	if (LDST_V(insn) && (LDST_OPC(insn) & 2))
		scale = 4;				/* Q register */

	if ((insn & LDST_IMM12_MASK) == LDST_IMM12_VAL) {
		*start = base + (((insn >> 10) & 0xfff) << scale);
	} else if ((insn & LDST_IMM9_MASK) == LDST_IMM9_VAL) {
		*start = base;
		if (LDST_IMM9_MODE(insn) != 1)
			*start += sign_extend64(insn >> 12, 8);
	} else if ((insn & LDST_REGOFF_MASK) == LDST_REGOFF_VAL) {
		*start = base + hwbp_offset_reg(regs, insn, scale);
	} else if ((insn & LDST_ATOMIC_MASK) == LDST_ATOMIC_VAL &&
		   !LDST_V(insn)) {
		*start = base;
	} else if ((insn & LDST_PAIR_MASK) == LDST_PAIR_VAL) {
		/* opc: 0 words, 1 LDPSW (V=0) or D, 2 X (V=0) or Q */
		unsigned int opc = LDST_SIZE(insn);

		scale = LDST_V(insn) ? 2 + opc : (opc == 2 ? 3 : 2);
		*start = base;
		if (LDST_PAIR_MODE(insn) != 1)
			*start += sign_extend64(insn >> 15, 6) << scale;
		*len = 2 << scale;
		return true;
	} else if ((insn & LDST_EXCL_MASK) == LDST_EXCL_VAL) {
		/*
		 * o2 (bit 23) and o1 (bit 21) split the class: CAS (both
		 * set) moves one register of the access size; LDXP/STXP and
		 * CASP (o1 alone) move two registers of 4 << sz bytes, sz
		 * being bit 30 (bit 31 tells CASP from the exclusive pair);
		 * the rest (LDXR/STXR, LDAR/STLR) one register.
		 */
		*start = base;
		if (!aarch64_insn_is_cas(insn) && LDST_EXCL_PAIR(insn) &&
		    !LDST_EXCL_O2(insn))
			*len = 8 << LDST_PAIR_SZ(insn);
		else
			*len = (u64)1 << scale;
		return true;
	} else if ((insn & LDST_LIT_MASK) == LDST_LIT_VAL) {
		unsigned int opc = LDST_SIZE(insn);

		*start = regs->pc + (sign_extend64(insn >> 5, 18) << 2);
		*len = LDST_V(insn) ? 4 << opc : (opc == 1 ? 8 : 4);
		return true;
	} else if ((insn & LDST_MULT_MASK) == LDST_MULT_VAL) {
		/* opcode<15:12>: how many whole registers of 8 or 16 bytes */
		static const u8 regs[16] = {
			[0x0] = 4, [0x2] = 4, [0x4] = 3, [0x6] = 3,
			[0x7] = 1, [0x8] = 2, [0xa] = 2,
		};
		unsigned int n = regs[LDST_SIMD_OPCODE(insn)];

		if (!n)
			return false;
		*start = base;
		*len = n * (LDST_SIMD_Q(insn) ? 16 : 8);
		return true;
	} else if ((insn & LDST_SINGLE_MASK) == LDST_SINGLE_VAL) {
		/*
		 * One element per register (LD1 to LD4 of a lane, LDnR):
		 * opcode<15:13> and R give their number, opcode<15:14>
		 * and size their size.
		 */
		unsigned int opcode = (insn >> 13) & 7, size = (insn >> 10) & 3;
		unsigned int selem = ((opcode & 1) << 1 | LDST_SIMD_R(insn)) + 1;

		switch (opcode >> 1) {
		case 0:
		case 1:
			scale = opcode >> 1;
			break;
		case 2:
			scale = size & 1 ? 3 : 2;
			break;
		default:
			scale = size;
			break;
		}
		*start = base;
		*len = (u64)selem << scale;
		return true;
	} else {
		return false;
	}
	*len = (u64)1 << scale;
	return true;
}

/* The bytes the trapping instruction accesses, if it can be decoded. */
static bool __kprobes hwbp_access(const struct pt_regs *regs, u64 *start,
				  u64 *len)
{
	u32 insn;

	if (user_mode(regs)) {
		__le32 raw;
		int err;

		if (compat_user_mode(regs))
			return false;
		/* copy_from_user_nofault() without its generic copy loop */
		pagefault_disable();
		err = get_user(raw, (__le32 __user *)regs->pc);
		pagefault_enable();
		if (err)
			return false;
		insn = le32_to_cpu(raw);
	} else if (aarch64_insn_read((void *)regs->pc, &insn)) {
		return false;
	}
	if (!hwbp_decode_access(insn, regs, start, len))
		return false;
	*start = untagged_addr(*start);
	return true;
}

/*
 * May the step over the kernel instruction at regs->pc mask interrupts?
 * Interrupts must never stay masked after the step, so not if:
 * - it reads or writes PSTATE.DAIF (local_irq_save() is an MRS of DAIF):
 *   it would save the mask and restore it later, or undo it;
 * - it raises an exception (BRK, SVC, HVC, SMC), whose handler would run
 *   with the mask;
 * - it has an exception-table entry: it may fault (a user access, a
 *   *_nofault() load) and continue at its fixup, where the step never
 *   ends and the mask could not be taken back.
 */
static bool __kprobes hwbp_may_mask_irqs(const struct pt_regs *regs)
{
	u32 insn;

	if (aarch64_insn_read((void *)regs->pc, &insn))
		return false;
	if (aarch64_insn_is_msr_imm(insn) || aarch64_insn_is_msr_reg(insn))
		return false;
	if (aarch64_insn_is_mrs(insn) &&
	    aarch64_insn_extract_system_reg(insn) == AARCH64_INSN_SPCLREG_DAIF)
		return false;
	if (aarch64_insn_is_exception(insn))
		return false;
	return !search_exception_tables(regs->pc);
}

/*
 * Bring this CPU's masks in line with the steps in flight: @tsk's user-mode
 * step (the thread running here, or about to) masks its kinds at EL0; the
 * CPU's kernel step masks its kinds at both levels (a kernel load or store
 * may be a user access, checked against EL0 watchpoints).
 */
static void __kprobes hwbp_sync_masks(struct hwbp_cpu *hc,
				      struct task_struct *tsk)
{
	const struct arm64_hwbp_step *ust = &tsk->thread.debug.step;
	const struct arm64_hwbp_step *kst = &hc->kstep;
	bool changed = false;
	enum hwbp_kind kind;
	u8 user, kernel;
	u16 before;

	for (kind = 0; kind < HWBP_NR_KINDS; kind++) {
		user = ust->armed && (ust->cur.kinds & BIT(kind)) ? HWBP_EL0 : 0;
		kernel = kst->armed && (kst->cur.kinds & BIT(kind)) ?
			 HWBP_EL0 | HWBP_EL1 : 0;
		if (hc->user_mask[kind] == user && hc->kernel_mask[kind] == kernel)
			continue;
		before = hwbp_live_slots(hc, kind);
		hc->user_mask[kind] = user;
		hc->kernel_mask[kind] = kernel;
		hwbp_apply_masks(hc, kind, before);
		changed = true;
	}
	if (changed)
		isb();
}

/*
 * Arm the step over @st->cur, the instruction at regs->pc, with the kinds
 * it trapped on masked on this CPU (again, if it trapped on another kind
 * or came back after a diversion).
 */
static void __kprobes hwbp_step_arm(struct hwbp_cpu *hc, struct pt_regs *regs,
				    struct arm64_hwbp_step *st)
{
	bool again = st->armed;

	if (!again)
		st->foreign = !user_mode(regs) && kernel_active_single_step();
	st->armed = 1;
	hwbp_sync_masks(hc, current);

	if (user_mode(regs)) {
		/*
		 * The step is ours alone: TIF_HWBP_STEP, not ptrace's
		 * TIF_SINGLESTEP, so that syscall exit and signal delivery
		 * never take it for a debugger's. SPSR.SS set: step this
		 * instruction, not the one after it.
		 */
		set_thread_flag(TIF_HWBP_STEP);
		regs->pstate |= DBG_SPSR_SS;
		return;
	}
	/*
	 * No interrupt between the instruction and its step: one taken there
	 * would end the step in its entry code.
	 */
	if (!st->foreign && !st->cur.irq_masked && !(regs->pstate & PSR_I_BIT) &&
	    hwbp_may_mask_irqs(regs)) {
		regs->pstate |= PSR_I_BIT;
		st->cur.irq_masked = 1;
	}
	if (!again && !st->foreign)
		kernel_enable_single_step(regs);
	else
		kernel_rewind_single_step(regs);
}

/*
 * After the hits of one exception of @kind were delivered: step over the
 * instruction, unless a debugger was told and will. Its record then keeps
 * what else was told, for when the debugger's step traps again.
 */
static void __kprobes hwbp_after_hit(struct hwbp_cpu *hc, struct pt_regs *regs,
				     enum hwbp_kind kind,
				     const struct hwbp_hit *hit)
{
	struct arm64_hwbp_step *st = hwbp_step_of(hc, regs);

	if (hit->debugger) {
		if (st->armed)
			return;
		if (hit->reported)
			st->cur.kinds |= BIT(kind);
		if (st->cur.kinds)
			hwbp_push_diverted(st);
		return;
	}
	st->cur.kinds |= BIT(kind);
	hwbp_step_arm(hc, regs, st);
}

static bool __kprobes hwbp_covers_insn(const struct arch_hw_breakpoint *info,
				       unsigned long pc)
{
	unsigned long offset = pc & (ARM_BREAK_GRANULE - 1);

	return pc - offset == info->address && (info->ctrl.len & BIT(offset));
}

/**
 * do_breakpoint() - the breakpoint exception
 * @esr: the syndrome (unused: the PC says everything)
 * @regs: the trapping context
 *
 * Called from the exception entry with interrupts off.
 */
void __kprobes do_breakpoint(unsigned long esr, struct pt_regs *regs)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	struct arm64_hwbp_step *st = hwbp_step_of(hc, regs);
	unsigned long pc = instruction_pointer(regs);
	u8 levels = user_mode(regs) ? HWBP_EL0 : HWBP_EL1;
	struct hwbp_hit hit = {};
	struct perf_event *bp;
	unsigned long live;
	unsigned int n;

	lockdep_assert_irqs_disabled();
	hwbp_step_begin(st, regs);
	hit.replay = st->cur.kinds & BIT(HWBP_BRK);
	rcu_read_lock();
	live = hwbp_live_slots(hc, HWBP_BRK);
	for_each_set_bit(n, &live, HWBP_MAX_SLOTS) {
		bp = hw_breakpoint_owner(TYPE_INST, n);
		if (unlikely(!bp))	/* see hwbp_attribute() */
			continue;
		if (!(hwbp_level(counter_arch_bp(bp)) & levels) ||
		    !hwbp_covers_insn(counter_arch_bp(bp), pc))
			continue;
		hwbp_report(bp, pc, regs, &hit);
	}
	rcu_read_unlock();
	hwbp_after_hit(hc, regs, HWBP_BRK, &hit);
}

/* The first and the last byte @info reports hits on. */
static u64 __kprobes hwbp_watch_lo(const struct arch_hw_breakpoint *info)
{
	if (info->nr_blocks)
		return info->start;
	return info->address + __ffs(info->ctrl.len);
}

static u64 __kprobes hwbp_watch_hi(const struct arch_hw_breakpoint *info)
{
	if (info->nr_blocks)
		return info->start + info->size - 1;
	return info->address + __fls(info->ctrl.len);
}

/* How far @addr is from the bytes @info watches; 0 if it is one of them. */
static unsigned long __kprobes
hwbp_distance(const struct arch_hw_breakpoint *info, unsigned long addr)
{
	unsigned long lo = hwbp_watch_lo(info);
	unsigned long hi = hwbp_watch_hi(info);

	if (addr < lo)
		return lo - addr;
	return addr > hi ? addr - hi : 0;
}

/*
 * An access the handler could not decode reports only its first byte, or
 * (QEMU, and the architecture allows it) the first byte of the watched
 * block it touches: a range watchpoint counts it when that byte lies in
 * one of its blocks at most this far before the range (a DC ZVA block,
 * the widest common access), or in the range.
 */
#define HWBP_UNDECODED_REACH	64

/* Is @addr in one of range watchpoint @info's blocks? */
static bool __kprobes hwbp_in_blocks(const struct arch_hw_breakpoint *info,
				     unsigned long addr)
{
	unsigned int i;

	for (i = 0; i < info->nr_blocks; i++) {
		if (addr - info->block[i] < BIT_ULL(info->mask[i]))
			return true;
	}
	return false;
}

/* Does a live pair of TYPE_DATA below @n belong to @bp too? */
static bool __kprobes hwbp_seen_below(unsigned long live, unsigned int n,
				      struct perf_event *bp)
{
	unsigned int m;

	for_each_set_bit(m, &live, n) {
		if (hw_breakpoint_owner(TYPE_DATA, m) == bp)
			return true;
	}
	return false;
}

/*
 * Report a watchpoint hit. When the instruction decoded (@span: its first
 * byte and length), exactly the live watchpoints whose bytes it accesses
 * are hit (some CPUs trap on an unaligned access next to a watched byte,
 * or report an address outside the access), and the hit's address is the
 * first watched byte accessed. Otherwise every watchpoint holding the
 * reported address @far is hit (a range watchpoint also when @far is in
 * its blocks just before the range: HWBP_UNDECODED_REACH) or, if none
 * does and no range watchpoint's block holds @far (which would explain
 * the trap: its blocks trap outside its range by design), the nearest one
 * that selects bytes with BAS. A range watchpoint over two pairs is seen
 * once. A non-zero @access keeps only the watchpoints of that type.
 * Returns the number of candidates seen.
 */
static unsigned int __kprobes
hwbp_attribute(struct hwbp_cpu *hc, struct pt_regs *regs, unsigned long far,
	       const u64 *span, int access, struct hwbp_hit *hit)
{
	unsigned long addr = untagged_addr(far), best_dist = ULONG_MAX, dist;
	u8 levels = user_mode(regs) ? HWBP_EL0 : HWBP_EL0 | HWBP_EL1;
	unsigned long live = hwbp_live_slots(hc, HWBP_WATCH);
	struct perf_event *bp, *best = NULL;
	unsigned int n, seen = 0, exact = 0;
	bool in_block = false;
	u64 lo;

	for_each_set_bit(n, &live, HWBP_MAX_SLOTS) {
		const struct arch_hw_breakpoint *info;

		bp = hw_breakpoint_owner(TYPE_DATA, n);
		/*
		 * Never NULL while the pair is live (struct hwbp_cpu), even
		 * for a pseudo-NMI's kernel hit half way through an install
		 * or a clear; checked all the same.
		 */
		if (unlikely(!bp))
			continue;
		info = counter_arch_bp(bp);
		if (!(hwbp_level(info) & levels))
			continue;
		if (access && !(hw_breakpoint_type(bp) & access))
			continue;
		if (info->nr_blocks > 1 && hwbp_seen_below(live, n, bp))
			continue;
		seen++;
		if (span) {
			lo = hwbp_watch_lo(info);
			if (span[0] > hwbp_watch_hi(info) ||
			    span[0] + span[1] - 1 < lo)
				continue;
			exact++;
			hwbp_report(bp, max(span[0], lo), regs, hit);
			continue;
		}
		dist = hwbp_distance(info, addr);
		if (info->nr_blocks && hwbp_in_blocks(info, addr)) {
			in_block = true;
			if (addr < hwbp_watch_lo(info) &&
			    dist <= HWBP_UNDECODED_REACH)
				dist = 0;
		}
		if (!dist) {
			exact++;
			hwbp_report(bp, far, regs, hit);
		} else if (!info->nr_blocks && dist < best_dist) {
			best_dist = dist;
			best = bp;
		}
	}
	if (!exact && best && !in_block)
		hwbp_report(best, far, regs, hit);
	return seen;
}

/**
 * do_watchpoint() - the watchpoint exception
 * @far: the data address the CPU reported (in the access, maybe not a
 *	watched byte)
 * @esr: the syndrome: WnR tells a store from a load
 * @regs: the trapping context
 *
 * Called from the exception entry with interrupts off.
 */
void __kprobes do_watchpoint(unsigned long far, unsigned long esr,
			     struct pt_regs *regs)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	int access = esr & ESR_ELx_WNR ? HW_BREAKPOINT_W : HW_BREAKPOINT_R;
	struct arm64_hwbp_step *st = hwbp_step_of(hc, regs);
	struct hwbp_hit hit = {};
	u64 span[2];	/* the access: first byte, length */
	const u64 *decoded;

	lockdep_assert_irqs_disabled();
	hwbp_step_begin(st, regs);
	hit.replay = st->cur.kinds & BIT(HWBP_WATCH);
	/*
	 * Decoded even for a lone 8-byte watchpoint: under QEMU, arm64_hw's
	 * overlap sweep gets traps for stores that touch no watched byte,
	 * which only the decoded access tells apart.
	 */
	decoded = hwbp_access(regs, &span[0], &span[1]) ? span : NULL;
	rcu_read_lock();
	/*
	 * An atomic or a cache maintenance operation may be reported with
	 * the other access type: then any live watchpoint will do.
	 */
	if (!hwbp_attribute(hc, regs, far, decoded, access, &hit))
		hwbp_attribute(hc, regs, far, decoded, 0, &hit);
	rcu_read_unlock();
	hwbp_after_hit(hc, regs, HWBP_WATCH, &hit);
}

/**
 * try_step_suspended_breakpoints() - the software step exception
 * @regs: where the step ended
 *
 * Ends the step over a hit: unmasks its registers and decides whether the
 * instruction ran (the step is over) or something else ran first (the step
 * was diverted; see the comment at the top of this file).
 *
 * Return: true if the exception was this file's alone and is handled;
 * false if it was not ours, or someone else was stepping too (a debugger
 * or uprobes in user mode, kgdb in the kernel) and must see it.
 */
bool __kprobes try_step_suspended_breakpoints(struct pt_regs *regs)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	struct arm64_hwbp_step *st = hwbp_step_of(hc, regs);
	bool user = user_mode(regs);

	if (user) {
		/*
		 * The flag, not the record, says the step is ours: a child
		 * forked between a hit and its step inherits the flag with
		 * an empty record, and its first step exception is ours.
		 */
		if (!test_and_clear_thread_flag(TIF_HWBP_STEP))
			return false;
	} else if (!st->armed) {
		return false;
	}

	if (st->armed) {
		if (hwbp_step_done(&st->cur, regs)) {
			st->armed = 0;
			if (st->cur.irq_masked)
				regs->pstate &= ~PSR_I_BIT;
		} else {
			/* The record keeps irq_masked for the replay. */
			hwbp_push_diverted(st);
		}
	}
	hwbp_sync_masks(hc, current);

	if (user)
		return !test_thread_flag(TIF_SINGLESTEP);
	if (st->foreign)
		return false;
	kernel_disable_single_step();
	return true;
}

/**
 * hw_breakpoint_thread_switch() - follow the next thread's step
 * @next: the thread about to run on this CPU
 *
 * A thread switched out between a user-mode hit and its step takes its
 * mask with it: the registers it masked are masked for it on whatever CPU
 * it next runs on, and for nobody else. Called with interrupts off.
 */
void hw_breakpoint_thread_switch(struct task_struct *next)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);

	/*
	 * Nothing masked for a user step here and none for @next: the masks
	 * stay as they are (the kernel's are not the thread's). Every switch
	 * comes here, breakpoints or not.
	 */
	if (!next->thread.debug.step.armed && !hc->user_mask[HWBP_BRK] &&
	    !hc->user_mask[HWBP_WATCH])
		return;
	hwbp_sync_masks(hc, next);
}

/**
 * hw_breakpoint_signal() - a signal handler runs before a step is over
 * @regs: the thread's user-mode context, about to get a signal frame
 *
 * Called by handle_signal() before the frame is set up. A step over a hit
 * still armed is diverted into the handler: its record is kept for the
 * replay when sigreturn comes back to the instruction, its registers are
 * unmasked so that the handler is watched as usual, and the handler is not
 * stepped for it (only for a debugger that steps too).
 */
void hw_breakpoint_signal(struct pt_regs *regs)
{
	struct arm64_hwbp_step *st = &current->thread.debug.step;
	unsigned long flags;

	if (!test_thread_flag(TIF_HWBP_STEP))
		return;
	local_irq_save(flags);
	clear_thread_flag(TIF_HWBP_STEP);
	if (!test_thread_flag(TIF_SINGLESTEP))
		regs->pstate &= ~DBG_SPSR_SS;
	if (st->armed)
		hwbp_push_diverted(st);
	hwbp_sync_masks(this_cpu_ptr(&hwbp_cpu), current);
	local_irq_restore(flags);
}

/**
 * hw_breakpoint_fixup() - a kernel instruction is abandoned at its fixup
 * @regs: the context that faulted, its PC still on the instruction
 *
 * Called by fixup_exception() before the PC moves to the fixup. A kernel
 * hit's step over this instruction was diverted by the fault; the
 * instruction will not run again from here, so its record goes, and its
 * next execution is a new one to report. Any context.
 */
void hw_breakpoint_fixup(struct pt_regs *regs)
{
	struct arm64_hwbp_step *st;
	unsigned long flags;
	int i;

	local_irq_save(flags);
	st = &this_cpu_ptr(&hwbp_cpu)->kstep;
	for (i = st->nr_diverted - 1; i >= 0; i--) {
		if (hwbp_same_insn(&st->diverted[i], regs)) {
			st->nr_diverted = i;
			break;
		}
	}
	local_irq_restore(flags);
}

/* === CPUs coming up and resuming === */

/*
 * Bring this CPU's registers in line with hwbp_cpu: a CPU coming online
 * holds no events (all pairs cleared); one resuming from a low-power state
 * gets its events' values back.
 */
static int hwbp_cpu_reset(unsigned int cpu)
{
	struct hwbp_cpu *hc = this_cpu_ptr(&hwbp_cpu);
	enum hwbp_kind kind;
	unsigned int n;

	for (kind = 0; kind < HWBP_NR_KINDS; kind++) {
		for (n = 0; n < hwbp_nr[kind]; n++) {
			/* 0 for a pair no event holds: cleared below too */
			hwbp_write(hwbp_value_bank[kind], n,
				   hc->used[kind] & BIT(n) ? hc->value[kind][n] : 0);
			hwbp_write_ctrl(hc, kind, n);
		}
	}
	isb();
	return 0;
}

static int __init arch_hw_breakpoint_init(void)
{
	int ret;

	hwbp_nr[HWBP_BRK] = min(get_num_brps(), HWBP_MAX_SLOTS);
	hwbp_nr[HWBP_WATCH] = min(get_num_wrps(), HWBP_MAX_SLOTS);
	pr_info("%u breakpoint and %u watchpoint registers\n",
		hwbp_nr[HWBP_BRK], hwbp_nr[HWBP_WATCH]);

	ret = cpuhp_setup_state(CPUHP_AP_PERF_ARM_HW_BREAKPOINT_STARTING,
				"perf/arm64/hw_breakpoint:starting",
				hwbp_cpu_reset, NULL);
	if (ret) {
		pr_err("cannot reset the registers of CPUs coming online: %d\n",
		       ret);
		return ret;
	}
	cpu_suspend_set_dbg_restorer(hwbp_cpu_reset);
	return 0;
}
arch_initcall(arch_hw_breakpoint_init);

void hw_breakpoint_pmu_read(struct perf_event *bp)
{
	/* A breakpoint event counts as its hits are reported. */
}

int hw_breakpoint_exceptions_notify(struct notifier_block *unused,
				    unsigned long val, void *data)
{
	/* Hits come through do_breakpoint() and do_watchpoint(), not DIE_DEBUG. */
	return NOTIFY_DONE;
}
