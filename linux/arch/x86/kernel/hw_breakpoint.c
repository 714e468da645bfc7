// SPDX-License-Identifier: GPL-2.0
/*
 * x86 backend of the hardware-breakpoint subsystem: programs DR0-DR3 and
 * DR7 as breakpoint events are scheduled on a CPU, and turns debug
 * exceptions (#DB) into perf events. See
 * Documentation/dev-tools/hw-breakpoint.rst.
 */

#include <linux/export.h>
#include <linux/hw_breakpoint.h>
#include <linux/kdebug.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/percpu.h>
#include <linux/perf_event.h>
#include <linux/processor.h>
#include <linux/sched.h>

#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/nospec-branch.h>
#include <asm/tlbflush.h>

/* === DR7 and DR6 encodings === */

/* One slot's 4-bit DR7 field: length in bits 3:2, access type in 1:0. */
#define DR7_FIELD_MASK		0xfUL
#define DR7_FIELD_LEN_MASK	0xcUL
#define DR7_FIELD_RW_MASK	0x3UL
/* Both enable bits (local, global) of one slot. */
#define DR7_SLOT_ENABLE_MASK	((unsigned long)(DR_LOCAL_ENABLE | DR_GLOBAL_ENABLE))

static_assert(DR_CONTROL_SIZE == 4 && DR_ENABLE_SIZE == 2);
static_assert(DR_CONTROL_SHIFT + HBP_NUM * DR_CONTROL_SIZE <= 32);
static_assert(HBP_NUM * DR_ENABLE_SIZE <= 8);
static_assert(DR_TRAP_BITS == (1 << HBP_NUM) - 1);
/* The length and type values fit their halves of the field ... */
static_assert(((DR_LEN_1 | DR_LEN_2 | DR_LEN_4 | DR_LEN_8) & ~DR7_FIELD_LEN_MASK) == 0);
static_assert(((DR_RW_EXECUTE | DR_RW_WRITE | DR_RW_READ) & ~DR7_FIELD_RW_MASK) == 0);
/* ... and the tags that mark a valid encoding stay out of it. */
static_assert(((X86_BREAKPOINT_LEN_TAG | X86_BREAKPOINT_TYPE_TAG) & DR7_FIELD_MASK) == 0);
static_assert((X86_BREAKPOINT_LEN_TAG & X86_BREAKPOINT_TYPE_TAG) == 0);

static unsigned int dr7_field_shift(int slot)
{
	return DR_CONTROL_SHIFT + slot * DR_CONTROL_SIZE;
}

/* The DR7 bits of @slot: its field and both of its enable bits. */
static unsigned long dr7_slot_bits(int slot)
{
	return DR7_FIELD_MASK << dr7_field_shift(slot) |
	       DR7_SLOT_ENABLE_MASK << (slot * DR_ENABLE_SIZE);
}

/**
 * encode_dr7 - the DR7 bits that enable one slot
 * @drnum: the slot, 0 to 3
 * @len: X86_BREAKPOINT_LEN_*
 * @type: X86_BREAKPOINT_EXECUTE, _WRITE or _RW
 *
 * Return: the slot's field, its global enable bit and the global
 * exact-breakpoint bit (GE), to be ORed into DR7.
 */
unsigned long encode_dr7(int drnum, unsigned int len, unsigned int type)
{
	unsigned long field = (len | type) & DR7_FIELD_MASK;

	return field << dr7_field_shift(drnum) |
	       (unsigned long)DR_GLOBAL_ENABLE << (drnum * DR_ENABLE_SIZE) |
	       DR_GLOBAL_SLOWDOWN;
}

/**
 * decode_dr7 - one slot's settings in a DR7 value
 * @dr7: the DR7 value
 * @bpnum: the slot, 0 to 3
 * @len: set to its X86_BREAKPOINT_LEN_* encoding
 * @type: set to its X86_BREAKPOINT_* type encoding
 *
 * Return: the slot's two enable bits (local in bit 0, global in bit 1);
 * zero when the slot is off.
 */
int decode_dr7(unsigned long dr7, int bpnum, unsigned int *len,
	       unsigned int *type)
{
	unsigned long field = (dr7 >> dr7_field_shift(bpnum)) & DR7_FIELD_MASK;

	*len = X86_BREAKPOINT_LEN_TAG | (field & DR7_FIELD_LEN_MASK);
	*type = X86_BREAKPOINT_TYPE_TAG | (field & DR7_FIELD_RW_MASK);
	return (dr7 >> (bpnum * DR_ENABLE_SIZE)) & DR7_SLOT_ENABLE_MASK;
}

/* The lengths DR7 can express, in bytes and as X86_BREAKPOINT_LEN_*. */
static const struct {
	u8	bytes;
	u8	x86;
} x86_bp_lens[] = {
	{ HW_BREAKPOINT_LEN_1, X86_BREAKPOINT_LEN_1 },
	{ HW_BREAKPOINT_LEN_2, X86_BREAKPOINT_LEN_2 },
	{ HW_BREAKPOINT_LEN_4, X86_BREAKPOINT_LEN_4 },
#ifdef CONFIG_X86_64
	{ HW_BREAKPOINT_LEN_8, X86_BREAKPOINT_LEN_8 },
#endif
};

/* Bytes covered by an X86_BREAKPOINT_LEN_* value, or 0 if invalid. */
static unsigned int x86_len_bytes(unsigned int x86_len)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(x86_bp_lens); i++) {
		if (x86_bp_lens[i].x86 == x86_len)
			return x86_bp_lens[i].bytes;
	}
	return 0;
}

/* The X86_BREAKPOINT_LEN_* value for @bytes, which DR7 can express. */
static unsigned int x86_bytes_len(unsigned int bytes)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(x86_bp_lens); i++) {
		if (x86_bp_lens[i].bytes == bytes)
			return x86_bp_lens[i].x86;
	}
	return X86_BREAKPOINT_LEN_1;
}

/*
 * A range split over several slots: at each step the longest length DR7
 * has (up to sizeof(long)) to which the address is aligned and that stays
 * inside the range. That is the fewest aligned pieces that cover exactly
 * [@addr, @addr + @size), since any aligned piece at an address can only
 * be as long as its alignment. Returns their number, counting no further
 * than HBP_NUM + 1 (too many); puts piece @want's address and bytes in
 * *@paddr and *@pbytes if it is one of them.
 */
static int x86_bp_split(unsigned long addr, unsigned long size, int want,
			unsigned long *paddr, unsigned int *pbytes)
{
	int n;

	/* By what is left, not by an end: a range may end at the top. */
	for (n = 0; size && n <= HBP_NUM; n++) {
		unsigned int bytes = sizeof(long);

		while (bytes > 1 && ((addr & (bytes - 1)) || size < bytes))
			bytes >>= 1;
		if (n == want) {
			*paddr = addr;
			*pbytes = bytes;
		}
		addr += bytes;
		size -= bytes;
	}
	return n;
}

/* The access types DR7 can express, as perf's bp_type and as X86_*. */
static const struct {
	u8	generic;
	u8	x86;
} x86_bp_types[] = {
	{ HW_BREAKPOINT_X,  X86_BREAKPOINT_EXECUTE },
	{ HW_BREAKPOINT_W,  X86_BREAKPOINT_WRITE },
	{ HW_BREAKPOINT_RW, X86_BREAKPOINT_RW },
};

/**
 * arch_bp_generic_fields - DR7 encodings to perf's bp_len and bp_type
 * @x86_len: X86_BREAKPOINT_LEN_*
 * @x86_type: X86_BREAKPOINT_EXECUTE, _WRITE or _RW
 * @gen_len: set to the length in bytes (sizeof(long) for execute)
 * @gen_type: set to HW_BREAKPOINT_X, _W or _RW
 *
 * Return: 0, or -EINVAL for a combination DR7 cannot hold (an execute
 * breakpoint with a length other than 1, or a reserved type).
 */
int arch_bp_generic_fields(int x86_len, int x86_type, int *gen_len,
			   int *gen_type)
{
	unsigned int bytes = x86_len_bytes(x86_len);
	int i;

	for (i = 0; i < ARRAY_SIZE(x86_bp_types); i++) {
		if (x86_bp_types[i].x86 == x86_type)
			break;
	}
	if (i == ARRAY_SIZE(x86_bp_types) || !bytes)
		return -EINVAL;

	if (x86_bp_types[i].generic == HW_BREAKPOINT_X) {
		/* One execute encoding, which perf calls sizeof(long). */
		if (x86_len != X86_BREAKPOINT_LEN_X)
			return -EINVAL;
		bytes = sizeof(long);
	}
	*gen_type = x86_bp_types[i].generic;
	*gen_len = bytes;
	return 0;
}

/* === Per-CPU register state === */

/*
 * DR7 as this CPU should hold it. Read by the entry code and KVM
 * (hw_breakpoint_active()), so it is always written before DR7 gains
 * bits and after DR7 loses them: an NMI that finds DR7 enabled also
 * finds cpu_dr7 non-zero.
 */
DEFINE_PER_CPU(unsigned long, cpu_dr7);
EXPORT_PER_CPU_SYMBOL(cpu_dr7);

/*
 * The address each of this CPU's DRn holds, for hw_breakpoint_restore().
 * Which event holds each slot is the core's register map
 * (hw_breakpoint_owner()). Only touched on the CPU itself, with
 * interrupts disabled.
 */
static DEFINE_PER_CPU(unsigned long, x86_bp_addr[HBP_NUM]);

/* The address and DR7 length of piece @piece of a parsed breakpoint. */
static unsigned long x86_bp_piece(const struct arch_hw_breakpoint *info,
				  int piece, unsigned int *len)
{
	unsigned long addr = info->address;
	unsigned int bytes;

	*len = info->len;
	if (info->range) {
		bytes = x86_len_bytes(*len);
		x86_bp_split(info->address, info->range, piece, &addr, &bytes);
		*len = x86_bytes_len(bytes);
	}
	return addr;
}

/**
 * arch_hw_breakpoint_program - put a breakpoint in one of this CPU's slots
 * @bp: the breakpoint, parsed by hw_breakpoint_arch_parse()
 * @piece: which of its slots: a range's piece, 0 otherwise
 * @slot: DR0-DR3, free, chosen by the core
 *
 * Context: interrupts disabled, from hw_breakpoint_install().
 */
void arch_hw_breakpoint_program(struct perf_event *bp, int piece, int slot)
{
	struct arch_hw_breakpoint *info = counter_arch_bp(bp);
	unsigned long addr, dr7;
	unsigned int len;

	lockdep_assert_irqs_disabled();
	addr = x86_bp_piece(info, piece, &len);
	this_cpu_write(x86_bp_addr[slot], addr);
	set_debugreg(addr, slot);

	dr7 = this_cpu_read(cpu_dr7) | encode_dr7(slot, len, info->type);
	this_cpu_write(cpu_dr7, dr7);
	/* cpu_dr7 first: see its comment. */
	barrier();
	set_debugreg(dr7, 7);

	if (info->mask)
		amd_set_dr_addr_mask(info->mask, slot);
}

/**
 * arch_hw_breakpoint_move - point a slot a breakpoint holds at its new address
 * @bp: the breakpoint, whose arch info modify_local_hw_breakpoint_addr()
 *	just changed (same type, length and number of slots)
 * @piece: the piece @slot holds
 * @slot: the slot
 *
 * The address goes where hw_breakpoint_restore() reads it first, then
 * into DRn, so an NMI that restores the registers in between loads the
 * new one. DR7 changes only if the piece's length did (a range split
 * anew); the core refuses a move from an NMI that interrupted a change of
 * this CPU's slots, the only other writers of cpu_dr7 here.
 *
 * Context: interrupts disabled, or NMI.
 */
void arch_hw_breakpoint_move(struct perf_event *bp, int piece, int slot)
{
	struct arch_hw_breakpoint *info = counter_arch_bp(bp);
	unsigned long addr, dr7, field;
	unsigned int len;

	addr = x86_bp_piece(info, piece, &len);
	this_cpu_write(x86_bp_addr[slot], addr);
	/* Recorded before DRn changes: see above. */
	barrier();
	set_debugreg(addr, slot);

	field = DR7_FIELD_MASK << dr7_field_shift(slot);
	dr7 = this_cpu_read(cpu_dr7);
	if ((dr7 & field) == (encode_dr7(slot, len, info->type) & field))
		return;
	dr7 = (dr7 & ~field) | (encode_dr7(slot, len, info->type) & field);
	this_cpu_write(cpu_dr7, dr7);
	set_debugreg(dr7, 7);
}

/**
 * arch_hw_breakpoint_clear - disable a slot a breakpoint holds on this CPU
 * @bp: the breakpoint
 * @slot: the slot, one the core gave it
 *
 * Context: interrupts disabled, from hw_breakpoint_uninstall().
 */
void arch_hw_breakpoint_clear(struct perf_event *bp, int slot)
{
	unsigned long dr7;

	lockdep_assert_irqs_disabled();
	dr7 = this_cpu_read(cpu_dr7) & ~dr7_slot_bits(slot);
	/* The last slot gone: GE goes too, and DR7 is clear again. */
	if (!(dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK)))
		dr7 &= ~DR_GLOBAL_SLOWDOWN;
	set_debugreg(dr7, 7);
	/* DR7 first: see the comment of cpu_dr7. */
	barrier();
	this_cpu_write(cpu_dr7, dr7);

	if (counter_arch_bp(bp)->mask)
		amd_set_dr_addr_mask(0, slot);
}

/**
 * arch_install_hw_breakpoint - install a breakpoint outside perf (kgdb)
 * @bp: the breakpoint, parsed by hw_breakpoint_arch_parse()
 *
 * Context: interrupts disabled.
 * Return: 0, or -EBUSY if every slot is taken.
 */
int arch_install_hw_breakpoint(struct perf_event *bp)
{
	return hw_breakpoint_install(bp);
}

/**
 * arch_uninstall_hw_breakpoint - remove what arch_install_hw_breakpoint() put
 * @bp: the breakpoint
 *
 * Context: interrupts disabled.
 */
void arch_uninstall_hw_breakpoint(struct perf_event *bp)
{
	hw_breakpoint_uninstall(bp);
}

/**
 * hw_breakpoint_restore - reload this CPU's debug registers
 *
 * After something else used them (KVM guests, text poking, kgdb), put
 * back DR0-DR3 and DR7 as the installed breakpoints need, and clear DR6.
 *
 * Context: interrupts disabled.
 */
void hw_breakpoint_restore(void)
{
	int slot;

	for (slot = 0; slot < HBP_NUM; slot++)
		set_debugreg(this_cpu_read(x86_bp_addr[slot]), slot);
	set_debugreg(DR6_RESERVED, 6);
	set_debugreg(this_cpu_read(cpu_dr7), 7);
}
EXPORT_SYMBOL_GPL(hw_breakpoint_restore);

/* === Validation === */

/*
 * Bytes a breakpoint watches: its DR7 length, the AMD mask's range, or a
 * split range's length. Parsing refused a range that wraps.
 */
static unsigned long x86_bp_bytes(const struct arch_hw_breakpoint *hw)
{
	if (hw->mask)
		return hw->mask + 1;
	if (hw->range)
		return hw->range;
	return max(x86_len_bytes(hw->len), 1U);
}

/**
 * arch_check_bp_in_kernelspace - whether a breakpoint touches kernel memory
 * @hw: the parsed breakpoint
 *
 * Return: true if any byte it watches is at or above TASK_SIZE_MAX.
 */
int arch_check_bp_in_kernelspace(struct arch_hw_breakpoint *hw)
{
	unsigned long last = hw->address + x86_bp_bytes(hw) - 1;

	return hw->address >= TASK_SIZE_MAX || last >= TASK_SIZE_MAX;
}

static bool ranges_overlap(unsigned long first, unsigned long last,
			   const void *start, size_t size)
{
	unsigned long base = (unsigned long)start;

	return first < base + size && last >= base;
}

/*
 * Memory the CPU or the entry code touches while #DB runs on its IST
 * stack with the breakpoints still armed: a watchpoint there would raise
 * #DB inside the #DB entry, which reloads the same IST stack and
 * recurses. The window is the entry up to local_db_save() (a kernel #DB)
 * or up to the switch to the task stack in sync_regs() (a user #DB), and
 * the exit after local_db_restore(). What it touches:
 *
 * - the CPU entry area (IST stacks, entry trampolines, the IDT and GDT
 *   aliases), the GDT and TSS the CPU reads to deliver the exception;
 * - the per-CPU offsets that find GSBASE (FSGSBASE entry);
 * - pcpu_hot: sync_regs() reads top_of_stack, call-depth tracking writes
 *   call_depth in every entry thunk and return;
 * - x86_spec_ctrl_current (IBRS_ENTER) and x86_pred_cmd (entry IBPB);
 * - fixed_percpu_data, whose stack canary the handler's prologue reads;
 * - the call-thunk statistics, with CONFIG_CALL_THUNKS_DEBUG;
 * - the TLB state checked on entry, and cpu_dr7, which local_db_save()
 *   reads in a guest before clearing DR7.
 *
 * An NMI landing in that window touches its own per-CPU state with the
 * breakpoints armed too; that state is private to nmi.c and not listed.
 */
static bool x86_bp_in_entry_path(unsigned long first, unsigned long last)
{
	int cpu;

	/*
	 * All of it is kernel memory: a user range needs none of the walk
	 * below, which visits every possible CPU: make bench measured it at
	 * 5% of creating and releasing a user watchpoint on 4 CPUs, and at
	 * more than half on 64.
	 */
	if (first < TASK_SIZE_MAX && last < TASK_SIZE_MAX)
		return false;
	if (ranges_overlap(first, last, (void *)CPU_ENTRY_AREA_BASE,
			   CPU_ENTRY_AREA_MAP_SIZE) ||
	    ranges_overlap(first, last, &x86_pred_cmd, sizeof(x86_pred_cmd)))
		return true;
#ifdef CONFIG_SMP
	if (ranges_overlap(first, last, __per_cpu_offset,
			   sizeof(__per_cpu_offset[0]) * nr_cpu_ids))
		return true;
#else
	if (ranges_overlap(first, last, &pcpu_unit_offsets,
			   sizeof(pcpu_unit_offsets)))
		return true;
#endif
	for_each_possible_cpu(cpu) {
		if (ranges_overlap(first, last, get_cpu_gdt_rw(cpu), GDT_SIZE) ||
		    ranges_overlap(first, last, &per_cpu(cpu_tss_rw, cpu),
				   sizeof(struct tss_struct)) ||
		    ranges_overlap(first, last, &per_cpu(cpu_tlbstate, cpu),
				   sizeof(struct tlb_state)) ||
		    ranges_overlap(first, last, &per_cpu(cpu_dr7, cpu),
				   sizeof(unsigned long)) ||
		    ranges_overlap(first, last, &per_cpu(pcpu_hot, cpu),
				   sizeof(struct pcpu_hot)) ||
		    ranges_overlap(first, last,
				   &per_cpu(x86_spec_ctrl_current, cpu),
				   sizeof(u64)))
			return true;
#ifdef CONFIG_X86_64
		if (ranges_overlap(first, last, &per_cpu(fixed_percpu_data, cpu),
				   sizeof(struct fixed_percpu_data)))
			return true;
#endif
#ifdef CONFIG_CALL_THUNKS_DEBUG
		if (ranges_overlap(first, last, &per_cpu(__x86_call_count, cpu),
				   sizeof(u64)) ||
		    ranges_overlap(first, last, &per_cpu(__x86_ret_count, cpu),
				   sizeof(u64)) ||
		    ranges_overlap(first, last,
				   &per_cpu(__x86_stuffs_count, cpu),
				   sizeof(u64)))
			return true;
#endif
	}
	return false;
}

/*
 * perf's bp_len to DR7's length, aligned to it (one slot, as ptrace
 * always asks); else a wider aligned power of two with AMD's address
 * masks (one slot); else a range of up to X86_BREAKPOINT_RANGE_MAX bytes
 * at any address, split into at most HBP_NUM aligned pieces, one slot
 * each. A range needing more pieces is -EINVAL; an aligned power of two
 * longer than that on a CPU without address masks is -EOPNOTSUPP.
 */
static int x86_bp_parse_len(const struct perf_event_attr *attr,
			    struct arch_hw_breakpoint *hw)
{
	unsigned long addr = attr->bp_addr, len = attr->bp_len, first;
	unsigned int bytes = 1;
	int i;

	for (i = 0; i < ARRAY_SIZE(x86_bp_lens); i++) {
		if (x86_bp_lens[i].bytes == len) {
			hw->len = x86_bp_lens[i].x86;
			return addr & (len - 1) ? -EINVAL : 0;
		}
	}
	if (is_power_of_2(len) && !(addr & (len - 1)) &&
	    boot_cpu_has(X86_FEATURE_BPEXT)) {
		hw->len = X86_BREAKPOINT_LEN_1;
		hw->mask = len - 1;
		return 0;
	}
	if (len > X86_BREAKPOINT_RANGE_MAX)
		return is_power_of_2(len) && !(addr & (len - 1)) ?
		       -EOPNOTSUPP : -EINVAL;
	if (x86_bp_split(addr, len, 0, &first, &bytes) > HBP_NUM)
		return -EINVAL;
	hw->len = x86_bytes_len(bytes);
	hw->range = len;
	return 0;
}

/**
 * arch_hw_breakpoint_weight - the slots a breakpoint takes
 * @attr: attributes hw_breakpoint_arch_parse() accepted
 *
 * Return: the number of pieces of a range split over several slots, 1
 * for anything else.
 */
int arch_hw_breakpoint_weight(const struct perf_event_attr *attr)
{
	struct arch_hw_breakpoint hw = { };

	if ((attr->bp_type & HW_BREAKPOINT_X) || x86_bp_parse_len(attr, &hw) ||
	    !hw.range)
		return 1;
	return x86_bp_split(attr->bp_addr, attr->bp_len, -1, NULL, NULL);
}

/**
 * hw_breakpoint_arch_parse - check a breakpoint against what DR7 can do
 * @bp: the breakpoint event
 * @attr: the requested attributes (bp_type is already known valid)
 * @hw: filled in on success
 *
 * Return: 0; -EINVAL for a read-only watchpoint (x86 has none), an execute
 * breakpoint whose bp_len is neither 1 nor sizeof(long) or whose address
 * kprobes refuse, a length of 1, 2, 4 or 8 at an address not aligned to
 * it, a range longer than X86_BREAKPOINT_RANGE_MAX or in more than HBP_NUM
 * aligned pieces, a range that wraps or that the debug exception entry
 * touches; -EOPNOTSUPP for a longer power of two on a CPU without address
 * masks.
 */
int hw_breakpoint_arch_parse(struct perf_event *bp,
			     const struct perf_event_attr *attr,
			     struct arch_hw_breakpoint *hw)
{
	unsigned long last = attr->bp_addr + attr->bp_len - 1;
	int i;

	if (!attr->bp_len || last < attr->bp_addr)
		return -EINVAL;
	if (x86_bp_in_entry_path(attr->bp_addr, last))
		return -EINVAL;

	*hw = (struct arch_hw_breakpoint){ .address = attr->bp_addr };
	for (i = 0; i < ARRAY_SIZE(x86_bp_types); i++) {
		if (x86_bp_types[i].generic == attr->bp_type)
			hw->type = x86_bp_types[i].x86;
	}
	/* No match: a read-only watchpoint, which x86 does not have. */
	if (!hw->type)
		return -EINVAL;

	if (hw->type == X86_BREAKPOINT_EXECUTE) {
		/* Kernel code only where a kprobe could go too. */
		if (attr->bp_addr >= TASK_SIZE_MAX &&
		    within_kprobe_blacklist(attr->bp_addr))
			return -EINVAL;
		/*
		 * DR7 has no execute length; perf asks for sizeof(long),
		 * bpftrace and others for 1.
		 */
		if (attr->bp_len != sizeof(long) && attr->bp_len != 1)
			return -EINVAL;
		hw->len = X86_BREAKPOINT_LEN_X;
		return 0;
	}

	return x86_bp_parse_len(attr, hw);
}

/**
 * flush_ptrace_hw_breakpoint - drop the breakpoints ptrace set in a task
 * @tsk: the task (exec, or exit of its last user)
 */
void flush_ptrace_hw_breakpoint(struct task_struct *tsk)
{
	struct thread_struct *thread = &tsk->thread;
	int i;

	for (i = 0; i < HBP_NUM; i++) {
		unregister_hw_breakpoint(thread->ptrace_bps[i]);
		thread->ptrace_bps[i] = NULL;
	}
	thread->virtual_dr6 = 0;
	thread->ptrace_dr7 = 0;
}

/* === The debug exception === */

/*
 * Deliver the breakpoint hits DR6 reports. A hit on an event perf has
 * scheduled on this CPU goes to perf (and its DR6 bit is consumed). A hit
 * on an event installed outside perf's scheduling, as kgdb installs its
 * own with arch_install_hw_breakpoint(), would be dropped by perf, whose
 * event is not active: its DR6 bit is left for the owner further down
 * the die chain. Single-step and the other DR6 causes are never ours.
 *
 * Return: NOTIFY_STOP when nothing is left for anyone else: no DR6 cause
 * but our hits, no ptrace hit that needs a SIGTRAP (virtual_dr6), and no
 * hit passed on to an owner outside perf.
 */
static int x86_bp_handle_debug(struct die_args *args)
{
	unsigned long *dr6_p = (unsigned long *)ERR_PTR(args->err);
	unsigned long dr6 = *dr6_p, hits = dr6 & DR_TRAP_BITS;
	unsigned long left = hits, mine;
	bool passed_on = false;
	struct perf_event *bp;
	int slot, s;

	if (!hits)
		return NOTIFY_DONE;

	/* Only the slots that hit: this runs on every watchpoint hit. */
	for_each_set_bit(slot, &hits, HBP_NUM) {
		bool exec;

		if (!(left & BIT(slot)))
			continue;
		bp = hw_breakpoint_owner(TYPE_DATA, slot);
		if (!bp)
			continue;
		/* An access across pieces of one range is one hit. */
		mine = 0;
		for_each_set_bit(s, &left, HBP_NUM) {
			if (hw_breakpoint_owner(TYPE_DATA, s) == bp)
				mine |= BIT(s);
		}
		left &= ~mine;

		exec = bp->hw.info.type == X86_BREAKPOINT_EXECUTE;
		/*
		 * An instruction breakpoint is a fault, reported before the
		 * instruction runs. With a single-step trap in the same #DB,
		 * the step wins; the breakpoint fires again on return.
		 */
		if (exec && (dr6 & DR_STEP))
			continue;
		/* Resume past the faulting instruction without re-firing. */
		if (exec)
			args->regs->flags |= X86_EFLAGS_RF;

		if (READ_ONCE(bp->state) != PERF_EVENT_STATE_ACTIVE) {
			passed_on = true;
			continue;
		}
		*dr6_p &= ~(mine * DR_TRAP0);
		perf_bp_event(bp, args->regs);
	}

	if (passed_on || (current->thread.virtual_dr6 & DR_TRAP_BITS) ||
	    (dr6 & ~DR_TRAP_BITS))
		return NOTIFY_DONE;
	return NOTIFY_STOP;
}

/**
 * hw_breakpoint_exceptions_notify - the breakpoint layer's die notifier
 * @unused: the notifier block
 * @val: the die event
 * @data: its struct die_args; for DIE_DEBUG, args->err points to DR6
 *
 * Return: NOTIFY_STOP when a debug exception was entirely ours,
 * NOTIFY_DONE otherwise.
 */
int hw_breakpoint_exceptions_notify(struct notifier_block *unused,
				    unsigned long val, void *data)
{
	return val == DIE_DEBUG ? x86_bp_handle_debug(data) : NOTIFY_DONE;
}

/**
 * hw_breakpoint_pmu_read - perf's read callback
 * @bp: the breakpoint event
 *
 * Hits are added to the event's count as they happen; nothing to fetch.
 */
void hw_breakpoint_pmu_read(struct perf_event *bp)
{
}
