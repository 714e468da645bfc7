/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hardware breakpoints and watchpoints in the CPUs' debug registers, for
 * the kernel (kgdb, register_wide_hw_breakpoint()) and for user space
 * (ptrace, perf's PERF_TYPE_BREAKPOINT). Each breakpoint is a perf event
 * of the "breakpoint" PMU; see Documentation/dev-tools/hw-breakpoint.rst.
 */
#ifndef _LINUX_HW_BREAKPOINT_H
#define _LINUX_HW_BREAKPOINT_H

#include <linux/perf_event.h>
#include <uapi/linux/hw_breakpoint.h>

#ifdef CONFIG_HAVE_HW_BREAKPOINT

/**
 * enum bp_type_idx - the kinds of debug-register slot a CPU has
 * @TYPE_INST: slots for instruction (execute) breakpoints
 * @TYPE_DATA: slots for data watchpoints; the same slots as @TYPE_INST on
 *             arches whose registers serve both
 *             (CONFIG_HAVE_MIXED_BREAKPOINTS_REGS)
 * @TYPE_MAX: number of distinct kinds
 */
enum bp_type_idx {
	TYPE_INST	= 0,
	TYPE_DATA	= IS_ENABLED(CONFIG_HAVE_MIXED_BREAKPOINTS_REGS) ? 0 : 1,
	TYPE_MAX
};

int __init init_hw_breakpoint(void);

#ifndef HW_BREAKPOINT_MAX_REGS
/* The most debug registers of one kind any CPU has (arm's 16). */
#define HW_BREAKPOINT_MAX_REGS	16
#endif

/**
 * struct hw_breakpoint_regs - who holds one CPU's debug registers of a kind
 * @owner: the event in each register, or NULL
 * @held: a bit for each register that has an owner
 *
 * The core's register map, one per CPU and &enum bp_type_idx. Only its
 * own CPU changes it: perf's add() and del() with interrupts off, kgdb
 * through hw_breakpoint_install() and hw_breakpoint_uninstall() from NMI
 * context (refused while a change is under way there). An owner is set
 * before the arch programs its register and cleared after the arch has
 * cleared it, so a debug exception on that CPU, which reads the map
 * without a lock, finds the owner of every register that can have hit;
 * the event stays alive for as long as it is in the map. On an arch that
 * chooses its own registers (no arch_hw_breakpoint_program) the numbers
 * are the core's count only, not the arch's registers. Other CPUs read
 * it racily, for diagnostics only.
 */
struct hw_breakpoint_regs {
	struct perf_event	*owner[HW_BREAKPOINT_MAX_REGS];
	unsigned long		held;
};

DECLARE_PER_CPU(struct hw_breakpoint_regs, hw_breakpoint_regs[TYPE_MAX]);

/**
 * hw_breakpoint_owner - the event holding a debug register of this CPU
 * @type: the register's kind
 * @reg: its number
 *
 * Context: interrupts disabled (a debug exception handler, or the arch's
 * own install and clear paths).
 * Return: the event, or NULL if the register is free.
 */
static __always_inline struct perf_event *
hw_breakpoint_owner(enum bp_type_idx type, unsigned int reg)
{
	return this_cpu_read(hw_breakpoint_regs[type].owner[reg]);
}

int hw_breakpoint_install(struct perf_event *bp);
void hw_breakpoint_uninstall(struct perf_event *bp);

/*
 * An arch that lets the core choose its registers defines
 * arch_hw_breakpoint_program (as itself) in <asm/hw_breakpoint.h> and
 * implements both functions below; the core then never calls its
 * arch_install_hw_breakpoint(), which is kept, if at all, for kgdb:
 *
 * arch_hw_breakpoint_program() puts piece @piece (0 up to the event's
 * weight less one) of @bp in register @reg of its kind on this CPU, and
 * arch_hw_breakpoint_clear() disables that register again. The core has
 * recorded @bp as the register's owner before the first and clears it
 * after the second. Neither may fail: the register is free and valid.
 * Both run with interrupts off on the CPU concerned.
 *
 * arch_hw_breakpoint_move() reprograms register @reg, which holds piece
 * @piece of @bp, from @bp's new arch info (modify_local_hw_breakpoint_addr()
 * changed its address, not its kind, side or weight). It runs with
 * interrupts off or in NMI, never during a change of this CPU's map, and
 * may not fail either.
 */
#ifdef arch_hw_breakpoint_program
void arch_hw_breakpoint_program(struct perf_event *bp, int piece, int reg);
void arch_hw_breakpoint_clear(struct perf_event *bp, int reg);
void arch_hw_breakpoint_move(struct perf_event *bp, int piece, int reg);
#endif

/**
 * hw_breakpoint_init - start the attributes of an in-kernel breakpoint
 * @attr: the attributes to fill
 *
 * Clears @attr and makes it a pinned PERF_TYPE_BREAKPOINT event that
 * calls its handler on every hit. The caller adds bp_addr, bp_len and
 * bp_type.
 */
static inline void hw_breakpoint_init(struct perf_event_attr *attr)
{
	*attr = (struct perf_event_attr) {
		.type		= PERF_TYPE_BREAKPOINT,
		.size		= sizeof(*attr),
		.pinned		= 1,
		.sample_period	= 1,
	};
}

/**
 * ptrace_breakpoint_init - start the attributes of a debugger's breakpoint
 * @attr: the attributes to fill
 *
 * As hw_breakpoint_init(), for a breakpoint that only fires in user mode.
 */
static inline void ptrace_breakpoint_init(struct perf_event_attr *attr)
{
	hw_breakpoint_init(attr);
	attr->exclude_kernel = 1;
}

/**
 * hw_breakpoint_addr - the address a breakpoint watches
 * @bp: the breakpoint event
 *
 * Return: its attr.bp_addr.
 */
static inline unsigned long hw_breakpoint_addr(const struct perf_event *bp)
{
	return bp->attr.bp_addr;
}

/**
 * hw_breakpoint_type - the accesses a breakpoint fires on
 * @bp: the breakpoint event
 *
 * Return: its attr.bp_type, HW_BREAKPOINT_R/W/RW/X.
 */
static inline int hw_breakpoint_type(const struct perf_event *bp)
{
	return bp->attr.bp_type;
}

/**
 * hw_breakpoint_len - the number of bytes a breakpoint watches
 * @bp: the breakpoint event
 *
 * Return: its attr.bp_len, a HW_BREAKPOINT_LEN_* value.
 */
static inline unsigned long hw_breakpoint_len(const struct perf_event *bp)
{
	return bp->attr.bp_len;
}

/**
 * counter_arch_bp - the arch's view of a breakpoint
 * @bp: the breakpoint event
 *
 * Return: the arch_hw_breakpoint that the arch's parse step filled in.
 */
static inline struct arch_hw_breakpoint *counter_arch_bp(struct perf_event *bp)
{
	return &bp->hw.info;
}

/* Breakpoints for tasks (ptrace) and for every CPU (kernel users). */
struct perf_event *register_user_hw_breakpoint(struct perf_event_attr *attr,
					       perf_overflow_handler_t triggered,
					       void *context,
					       struct task_struct *tsk);
void unregister_hw_breakpoint(struct perf_event *bp);
void unregister_wide_hw_breakpoint(struct perf_event *__percpu *cpu_events);
struct perf_event *__percpu *register_wide_hw_breakpoint(struct perf_event_attr *attr,
							  perf_overflow_handler_t triggered,
							  void *context);
struct perf_event *__percpu *
register_wide_hw_breakpoint_hotplug(struct perf_event_attr *attr,
				    perf_overflow_handler_t triggered,
				    void *context);
void unregister_wide_hw_breakpoint_hotplug(struct perf_event *__percpu *cpu_events);
int modify_user_hw_breakpoint_check(struct perf_event *bp,
				    struct perf_event_attr *attr, bool check);
int modify_user_hw_breakpoint(struct perf_event *bp,
			      struct perf_event_attr *attr);
int modify_local_hw_breakpoint_addr(struct perf_event *bp, unsigned long addr);
int modify_wide_hw_breakpoint_local(struct perf_event *__percpu *cpu_events,
				    unsigned long addr);
bool hw_breakpoint_is_used(void);

/* Slot accounting, for kgdb, which manages its events' slots itself. */
int reserve_bp_slot(struct perf_event *bp);
void release_bp_slot(struct perf_event *bp);
int dbg_reserve_bp_slot(struct perf_event *bp);
int dbg_release_bp_slot(struct perf_event *bp);

/* Defined by each arch: drop the breakpoints ptrace set in @tsk. */
void flush_ptrace_hw_breakpoint(struct task_struct *tsk);

#else /* !CONFIG_HAVE_HW_BREAKPOINT */

static inline int __init init_hw_breakpoint(void) { return 0; }
static inline bool hw_breakpoint_is_used(void) { return false; }
static inline void unregister_hw_breakpoint(struct perf_event *bp) { }
static inline void
unregister_wide_hw_breakpoint(struct perf_event *__percpu *cpu_events) { }
static inline void release_bp_slot(struct perf_event *bp) { }
static inline void flush_ptrace_hw_breakpoint(struct task_struct *tsk) { }
static inline int reserve_bp_slot(struct perf_event *bp) { return -EOPNOTSUPP; }

static inline struct perf_event *
register_user_hw_breakpoint(struct perf_event_attr *attr,
			    perf_overflow_handler_t triggered, void *context,
			    struct task_struct *tsk)
{
	return NULL;
}

static inline struct perf_event *__percpu *
register_wide_hw_breakpoint(struct perf_event_attr *attr,
			    perf_overflow_handler_t triggered, void *context)
{
	return NULL;
}

static inline struct perf_event *__percpu *
register_wide_hw_breakpoint_hotplug(struct perf_event_attr *attr,
				    perf_overflow_handler_t triggered,
				    void *context)
{
	return NULL;
}

static inline void
unregister_wide_hw_breakpoint_hotplug(struct perf_event *__percpu *cpu_events) { }

static inline int modify_user_hw_breakpoint_check(struct perf_event *bp,
						  struct perf_event_attr *attr,
						  bool check)
{
	return -EOPNOTSUPP;
}

static inline int modify_user_hw_breakpoint(struct perf_event *bp,
					    struct perf_event_attr *attr)
{
	return -EOPNOTSUPP;
}

static inline int modify_local_hw_breakpoint_addr(struct perf_event *bp,
						  unsigned long addr)
{
	return -EOPNOTSUPP;
}

static inline int
modify_wide_hw_breakpoint_local(struct perf_event *__percpu *cpu_events,
				unsigned long addr)
{
	return -EOPNOTSUPP;
}

static inline struct arch_hw_breakpoint *counter_arch_bp(struct perf_event *bp)
{
	return NULL;
}

#endif /* CONFIG_HAVE_HW_BREAKPOINT */
#endif /* _LINUX_HW_BREAKPOINT_H */
