// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware breakpoints: share every CPU's debug registers between CPU-wide
 * and per-task breakpoints, and offer them as the "breakpoint" perf PMU.
 *
 * The constraint model, the locking and the interface are described in
 * Documentation/dev-tools/hw-breakpoint.rst.
 */

#include "hw_breakpoint_internal.h"

/* === Slot counts === */

/*
 * Registers of each type on every CPU (TYPE_INST and TYPE_DATA, or one
 * shared pool with CONFIG_HAVE_MIXED_BREAKPOINTS_REGS), read once at boot:
 * a constant on x86, discovered from the ID registers on arm64.
 */
static int bp_nr_slots[TYPE_MAX] __ro_after_init;

/* Set once the tables below exist; nothing is counted before. */
static bool bp_tables_ready __ro_after_init;

static enum bp_type_idx bp_slot_type(u64 bp_type)
{
	return (bp_type & HW_BREAKPOINT_RW) ? TYPE_DATA : TYPE_INST;
}

/*
 * Slots one breakpoint takes: one register, unless the arch splits it
 * over several (x86's range watchpoints). It is asked only for an attr
 * its parse step accepted. The allocator supports any weight up to the
 * register count, and installs a breakpoint's registers all or none.
 */
VISIBLE_IF_KUNIT int hw_breakpoint_weight(const struct perf_event_attr *attr)
{
	KUNIT_STATIC_STUB_REDIRECT(hw_breakpoint_weight, attr);
#ifdef arch_hw_breakpoint_weight
	return arch_hw_breakpoint_weight(attr);
#else
	return 1;
#endif
}

/* === Constraint tables === */

/*
 * A histogram of slot use: nr[i] counts the owners (CPUs or tasks) that
 * take exactly i + 1 slots, so its highest non-empty bucket is the most
 * slots any one owner takes, found without visiting the owners.
 */
struct bp_hist {
	atomic_t	*nr;
};

/* One CPU's use of one type of slot. */
struct bp_cpu_use {
	/*
	 * Slots taken by breakpoints bound to this CPU and no task: @pinned
	 * for the pinned ones, plus one share for the flexible ones, as wide
	 * as the widest of them (the top of @flex).
	 */
	int		cpu_bound;
	int		pinned;
	/*
	 * Flexible breakpoints bound to this CPU and no task, by weight, and
	 * its top, the flexible share, kept so that pinned ones never read
	 * the histogram.
	 */
	struct bp_hist	flex;
	int		flex_share;
	/*
	 * Registers of this CPU held by flexible events: a bit for each
	 * (beside the map's @held, for the slots file), and the number held
	 * by those of the CPU's own context (for bp_cpu_flex_may_add()). Changed
	 * by this CPU alone, with interrupts off.
	 */
	unsigned long	flex_held;
	int		flex_installed;
	/*
	 * Flexible breakpoints perf moved into another PMU's context
	 * (bp_moved()): the registers held here by the running task's and by
	 * the CPU's own, and the one whose add() found none, for which this
	 * PMU's own flexible breakpoints leave the registers from
	 * @moved_since to @moved_until (jiffies; compared, never followed).
	 * This CPU alone, with interrupts off, uses them.
	 */
	int		moved_installed;
	int		moved_cpu_installed;
	struct perf_event *moved_waiter;
	unsigned long	moved_since;
	unsigned long	moved_until;
	/*
	 * Tasks with at least one breakpoint bound to a single CPU, by the
	 * slots each takes on this CPU (its breakpoints bound to this CPU
	 * plus those that follow it on every CPU).
	 */
	struct bp_hist	tasks;
};

static DEFINE_PER_CPU(struct bp_cpu_use, bp_cpu_use[TYPE_MAX]);

/* The register map: see struct hw_breakpoint_regs. */
DEFINE_PER_CPU(struct hw_breakpoint_regs, hw_breakpoint_regs[TYPE_MAX]);

/* The tables of one type of slot that span all CPUs. */
static struct bp_all_cpus {
	/* CPUs by their bp_cpu_use::cpu_bound: the busiest CPU at a glance. */
	struct bp_hist	cpu_bound;
	/*
	 * Tasks whose breakpoints all follow them on every CPU, by the slots
	 * each takes. Their use is the same on every CPU, so one histogram
	 * stands for all CPUs and such a task is counted in O(1).
	 */
	struct bp_hist	any_cpu_tasks;
} bp_all_cpus[TYPE_MAX];

/*
 * Keyed by the task pointer, hw.target; chained through hw.bp_list. The
 * chain of NULL holds the flexible breakpoints bound to a CPU and no task
 * (see bp_group_share()); pinned ones bound to a CPU are not in it.
 */
static const struct rhashtable_params bp_task_table_params = {
	.key_len		= sizeof(struct task_struct *),
	.key_offset		= offsetof(struct hw_perf_event, target),
	.head_offset		= offsetof(struct hw_perf_event, bp_list),
	.automatic_shrinking	= true,
};

/* Task breakpoints, chained per task, and flexible CPU-bound ones. */
static struct rhltable bp_task_table;

/* === Locking === */

/*
 * bp_tables_sem guards the constraint tables:
 *
 *  - A breakpoint bound to a CPU and no task holds it for writing: it
 *    reads the task histograms of its CPU, which must hold still, and it
 *    changes cpu_bound and bp_all_cpus[].cpu_bound, which only writers
 *    change.
 *
 *  - A task's breakpoint holds it for reading, plus the task's lock. It
 *    reads cpu_bound and bp_all_cpus[].cpu_bound (stable: writers are
 *    out) and the task's own breakpoints (stable: the task lock is held), and moves
 *    the task between histogram buckets with atomic counters, which other
 *    tasks' readers may update at the same time. So breakpoints of
 *    different tasks are set up in parallel; only CPU-bound ones
 *    serialise against everything.
 *
 * A task's lock is one of bp_task_locks, chosen by hashing the task:
 * task_struct has no room of ours, and a lock private to this file is a
 * leaf (only bp_tables_sem is taken under it), so it never nests in the
 * perf core's locks. Two tasks sharing a lock merely serialise.
 *
 * Lock order: task lock, then bp_tables_sem.
 */
DEFINE_STATIC_PERCPU_RWSEM(bp_tables_sem);

#define BP_TASK_LOCK_BITS	6
static struct mutex bp_task_locks[1 << BP_TASK_LOCK_BITS];

static struct mutex *bp_task_lock(const struct task_struct *tsk)
{
	return &bp_task_locks[hash_ptr(tsk, BP_TASK_LOCK_BITS)];
}

/* Take the locks @bp's tables need; returns the task lock, if one. */
static struct mutex *bp_lock(struct perf_event *bp)
{
	struct mutex *task_lock;	/* one of bp_task_locks */

	if (!bp->hw.target) {
		percpu_down_write(&bp_tables_sem);
		return NULL;
	}
	task_lock = bp_task_lock(bp->hw.target);
	mutex_lock(task_lock);
	percpu_down_read(&bp_tables_sem);
	return task_lock;
}

static void bp_unlock(struct mutex *task_lock)
{
	if (!task_lock) {
		percpu_up_write(&bp_tables_sem);
		return;
	}
	percpu_up_read(&bp_tables_sem);
	mutex_unlock(task_lock);
}

/* The kernel debugger's test: could someone be changing @bp's tables? */
static bool bp_lock_busy(struct perf_event *bp)
{
	if (percpu_is_write_locked(&bp_tables_sem))
		return true;
	if (bp->hw.target)
		return mutex_is_locked(bp_task_lock(bp->hw.target));
	return percpu_is_read_locked(&bp_tables_sem);
}

static void bp_assert_locked(struct perf_event *bp)
{
	if (bp->hw.target) {
		lockdep_assert_held(bp_task_lock(bp->hw.target));
		lockdep_assert_held(&bp_tables_sem);
	} else {
		lockdep_assert_held_write(&bp_tables_sem);
	}
}

/* === Histograms === */

static int bp_hist_alloc(struct bp_hist *hist, enum bp_type_idx type)
{
	hist->nr = kcalloc(bp_nr_slots[type], sizeof(*hist->nr), GFP_KERNEL);
	return hist->nr ? 0 : -ENOMEM;
}

static void bp_hist_free(struct bp_hist *hist)
{
	kfree(hist->nr);
	hist->nr = NULL;
}

/* Move one owner from using @from slots to using @to (0: not counted). */
static void bp_hist_move(struct bp_hist *hist, enum bp_type_idx type,
			 int from, int to)
{
	if (from == to)
		return;
	if (from > 0)
		WARN_ON_ONCE(atomic_dec_return_relaxed(&hist->nr[from - 1]) < 0);
	/* Admission keeps every owner within the registers. */
	if (to > 0 && !WARN_ON_ONCE(to > bp_nr_slots[type]))
		atomic_inc(&hist->nr[to - 1]);
}

/*
 * The most slots any owner counted in @hist takes. Without the locks
 * (bp_cpu_flex_may_add()) the answer may be stale by the time it is used.
 */
static int bp_hist_top_racy(struct bp_hist *hist, enum bp_type_idx type)
{
	int i;

	for (i = bp_nr_slots[type]; i > 0; i--) {
		if (atomic_read(&hist->nr[i - 1]))
			return i;
	}
	return 0;
}

/* The same, for callers that need a snapshot no one is changing. */
static int bp_hist_top(struct bp_hist *hist, enum bp_type_idx type)
{
	int i;

	for (i = 0; i < bp_nr_slots[type]; i++)
		ASSERT_EXCLUSIVE_WRITER(hist->nr[i]);
	return bp_hist_top_racy(hist, type);
}

static bool bp_hist_empty(struct bp_hist *hist, enum bp_type_idx type)
{
	int i;

	for (i = 0; i < bp_nr_slots[type]; i++) {
		if (atomic_read(&hist->nr[i]))
			return false;
	}
	return true;
}

/* === Flexible breakpoints === */

/*
 * A breakpoint is flexible when it is not pinned (its group leader's
 * attr.pinned; ptrace, kgdb and hw_breakpoint_init() pin), its group is
 * led by a breakpoint (bp_leader_rotates()) and flexible mode is on.
 * An owner's flexible breakpoints share one reservation as wide as the
 * largest of their shares (a lone breakpoint's share is its weight, a
 * group's the weight of all its members: bp_group_share()), so only the
 * first one can get -ENOSPC, and perf rotates them through the registers
 * the pinned ones leave: their add() fails quietly when no register is
 * free.
 *
 * bp_flexible_mode changes only with bp_tables_sem held for writing and
 * no flexible breakpoint left (bp_nr_flexible, counted under the locks),
 * so a breakpoint is counted at release as it was at reservation.
 */
static bool bp_flexible_mode = true;
static atomic_t bp_nr_flexible = ATOMIC_INIT(0);

/*
 * Whether @bp's group is one perf multiplexes with the breakpoint PMU's
 * own: led by a breakpoint (@bp itself, or another) that is not pinned.
 * perf keeps a group in its leader's PMU context and rotates each
 * context alone, so a breakpoint in a group led by another PMU's event
 * (cpu-clock, cycles) could lose every round to a plain flexible one of
 * the same owner, which no rotation of the leader's context moves out.
 * Such a breakpoint is counted as pinned: it takes a register of its
 * own, as in 6.12, and its add() never fails. @bp->pmu is set before its
 * event_init() runs.
 */
static bool bp_leader_rotates(struct perf_event *bp)
{
	struct perf_event *leader = bp->group_leader;

	return !leader->attr.pinned && leader->pmu == bp->pmu;
}

/*
 * What reservation decided about a breakpoint, kept in its pmu_private
 * (nothing else of the breakpoint PMU uses it): whether it is flexible;
 * its weight, the registers it takes when installed, computed once from
 * its attr; and its share, the slots it is counted for in the tables (its
 * weight, or for a flexible one its group's: bp_group_share()). Its
 * release, its add() and del() and the walks of its task's breakpoints
 * read them back, so they agree with the reservation whatever context
 * they run in. Written under the locks, while the event is not installed
 * (modification disables it first).
 */
#define BP_PRIV_FLEXIBLE	BIT(0)
#define BP_PRIV_WEIGHT		GENMASK(8, 1)
#define BP_PRIV_SHARE		GENMASK(16, 9)

/* Both fields are 8 bits wide: at most every register of a kind. */
static_assert(HW_BREAKPOINT_MAX_REGS <= U8_MAX);

static void bp_set_priv(struct perf_event *bp, int weight, int share,
			bool flexible)
{
	unsigned long priv = FIELD_PREP(BP_PRIV_WEIGHT, weight) |
			     FIELD_PREP(BP_PRIV_SHARE, share) |
			     (flexible ? BP_PRIV_FLEXIBLE : 0);

	WRITE_ONCE(bp->pmu_private, (void *)priv);
}

static bool bp_flexible(const struct perf_event *bp)
{
	return (unsigned long)READ_ONCE(bp->pmu_private) & BP_PRIV_FLEXIBLE;
}

static int bp_weight(const struct perf_event *bp)
{
	return FIELD_GET(BP_PRIV_WEIGHT,
			 (unsigned long)READ_ONCE(bp->pmu_private));
}

static int bp_share(const struct perf_event *bp)
{
	return FIELD_GET(BP_PRIV_SHARE,
			 (unsigned long)READ_ONCE(bp->pmu_private));
}

/*
 * An owner's use of one type of slot: its pinned breakpoints' weights,
 * plus the share of its flexible ones (the largest flexible share).
 */
struct bp_use {
	int	pinned;
	int	flex;
};

static int bp_use_slots(struct bp_use use)
{
	return use.pinned + use.flex;
}

/* @use with @bp, counted for @share slots, added. */
static struct bp_use bp_use_with(struct bp_use use, struct perf_event *bp,
				 int share)
{
	if (bp_flexible(bp))
		use.flex = max(use.flex, share);
	else
		use.pinned += share;
	return use;
}

/* === A task's breakpoints === */

/* A task's use of one type of slot, one breakpoint left out. */
struct bp_task_use {
	/* Use of the breakpoints that follow the task on every CPU. */
	struct bp_use	any_cpu;
	/* The task also has breakpoints bound to single CPUs. */
	bool		one_cpu;
};

/*
 * Walk the breakpoints of @bp's task that use @type slots, leaving out @bp
 * itself (being reserved, released or modified): with @cpu < 0 summarise
 * them, otherwise also count their use of @cpu in *@on_cpu.
 */
static struct bp_task_use __bp_task_walk(struct perf_event *bp,
					 enum bp_type_idx type, int cpu,
					 struct bp_use *on_cpu)
{
	struct bp_task_use use = { };
	struct rhlist_head *chain, *pos;
	struct perf_event *iter;
	int share;

	if (on_cpu)
		*on_cpu = (struct bp_use){ };

	rcu_read_lock();
	chain = rhltable_lookup(&bp_task_table, &bp->hw.target,
				bp_task_table_params);
	rhl_for_each_entry_rcu(iter, pos, chain, hw.bp_list) {
		/* Pairs with WRITE_ONCE() in bp_commit(): see bp_modify(). */
		if (iter == bp || bp_slot_type(READ_ONCE(iter->attr.bp_type)) != type)
			continue;
		share = bp_share(iter);
		if (iter->cpu < 0)
			use.any_cpu = bp_use_with(use.any_cpu, iter, share);
		else
			use.one_cpu = true;
		if (on_cpu && (iter->cpu < 0 || iter->cpu == cpu))
			*on_cpu = bp_use_with(*on_cpu, iter, share);
	}
	rcu_read_unlock();
	return use;
}

/* The walk for the allocator, with @bp's locks held. */
static struct bp_task_use bp_task_walk(struct perf_event *bp,
				       enum bp_type_idx type, int cpu,
				       struct bp_use *on_cpu)
{
	bp_assert_locked(bp);
	return __bp_task_walk(bp, type, cpu, on_cpu);
}

static struct bp_task_use bp_task_use(struct perf_event *bp,
				      enum bp_type_idx type)
{
	return bp_task_walk(bp, type, -1, NULL);
}

/* The use of @cpu by @bp's task, @bp left out. */
static struct bp_use bp_task_use_on(struct perf_event *bp,
				    enum bp_type_idx type, int cpu)
{
	struct bp_use on_cpu;

	bp_task_walk(bp, type, cpu, &on_cpu);
	return on_cpu;
}

/*
 * The slots a breakpoint taking @weight registers of @type is counted for.
 * perf schedules a group all or nothing (group_sched_in() takes back the
 * members it added when one fails), so a flexible group fits only when
 * its members' registers are free at once, and counting each member for
 * its own weight alone would admit groups that can never run. So a
 * flexible breakpoint counts for its weight plus that of the other
 * breakpoints of its group and type that exist (reserved before it, or
 * around it when it is modified): its owner's chain in bp_task_table
 * holds them, the task's or the CPU's (NULL). The last member reserved
 * counts for the whole group, and the owner's share, the largest, covers
 * it. A member that leaves (or its leader's close, which makes each
 * member lead itself) shrinks nobody's share: the group is counted for as
 * much until its other members go too, which never lets it starve.
 * Pinned breakpoints count for their weight: theirs add up anyway.
 */
static int bp_group_share(struct perf_event *bp, enum bp_type_idx type,
			  int weight, bool flexible)
{
	struct perf_event *iter, *leader = bp->group_leader;
	struct rhlist_head *chain, *pos;
	int share = weight;

	bp_assert_locked(bp);
	if (!flexible)
		return share;
	rcu_read_lock();
	chain = rhltable_lookup(&bp_task_table, &bp->hw.target,
				bp_task_table_params);
	rhl_for_each_entry_rcu(iter, pos, chain, hw.bp_list) {
		if (iter == bp || iter->cpu != bp->cpu || !bp_flexible(iter) ||
		    bp_slot_type(READ_ONCE(iter->attr.bp_type)) != type)
			continue;
		/* perf_group_detach() changes it under the ctx lock: compared only. */
		if (data_race(iter->group_leader) == leader)
			share += bp_weight(iter);
	}
	rcu_read_unlock();
	return share;
}

static const struct cpumask *bp_cpus(struct perf_event *bp)
{
	return bp->cpu >= 0 ? cpumask_of(bp->cpu) : cpu_possible_mask;
}

/* === Admission and accounting === */

/* The use of @cpu by its breakpoints bound to no task, with @bp added. */
static struct bp_use bp_cpu_use_with(struct perf_event *bp,
				     enum bp_type_idx type, int share)
{
	struct bp_cpu_use *cpu_use = per_cpu_ptr(&bp_cpu_use[type], bp->cpu);
	struct bp_use use = {
		.pinned	= cpu_use->pinned,
		.flex	= cpu_use->flex_share,
	};

	return bp_use_with(use, bp, share);
}

/*
 * The most slots of @type that any CPU @bp can run on would need if @bp,
 * counted for @share slots, were added; @bp itself is not counted yet.
 *
 * On a CPU, the registers must hold at once its CPU-bound breakpoints and
 * the breakpoints of whichever task runs there, each side counting its
 * pinned breakpoints and one share for its flexible ones (struct bp_use).
 * So:
 *
 *  1. A CPU-bound breakpoint (no task) needs, on its CPU, the CPU-bound
 *     use plus the most any task takes there: the top of the CPU's task
 *     histogram or of the any-CPU task histogram.
 *
 *  2. A task's breakpoint that follows it everywhere, in a task whose
 *     other breakpoints do too, needs the task's use plus the CPU-bound
 *     use of the busiest CPU: the top of bp_all_cpus[].cpu_bound.
 *
 *  3. Any other task breakpoint needs, on each CPU it can run on, that
 *     CPU's CPU-bound use plus what the task takes there.
 *
 * Other tasks never matter to a task's breakpoint: only one task runs on
 * a CPU at a time. A flexible breakpoint no wider than its owner's share
 * changes no use, so it always fits.
 */
static int bp_slots_needed(struct perf_event *bp, enum bp_type_idx type,
			   int share)
{
	struct bp_task_use use;
	int cpu, most = 0;

	if (!bp->hw.target) {
		struct bp_cpu_use *cpu_use = per_cpu_ptr(&bp_cpu_use[type],
							 bp->cpu);

		lockdep_assert_held_write(&bp_tables_sem);
		return bp_use_slots(bp_cpu_use_with(bp, type, share)) +
		       max(bp_hist_top(&cpu_use->tasks, type),
			   bp_hist_top(&bp_all_cpus[type].any_cpu_tasks, type));
	}

	if (bp->cpu < 0) {
		use = bp_task_use(bp, type);
		if (!use.one_cpu)
			return bp_hist_top(&bp_all_cpus[type].cpu_bound, type) +
			       bp_use_slots(bp_use_with(use.any_cpu, bp, share));
	}

	for_each_cpu(cpu, bp_cpus(bp)) {
		struct bp_use on_cpu = bp_task_use_on(bp, type, cpu);

		most = max(most, per_cpu_ptr(&bp_cpu_use[type], cpu)->cpu_bound +
				 bp_use_slots(bp_use_with(on_cpu, bp, share)));
	}
	return most;
}

/* Move an owner between buckets of @hist: @without to @with, or back. */
static void bp_hist_switch(struct bp_hist *hist, enum bp_type_idx type,
			   int without, int with, bool add)
{
	if (add)
		bp_hist_move(hist, type, without, with);
	else
		bp_hist_move(hist, type, with, without);
}

/* Count CPU-bound @bp into (@add) or out of its CPU's use. */
static void bp_account_cpu(struct perf_event *bp, enum bp_type_idx type,
			   int share, bool add)
{
	struct bp_cpu_use *cpu_use = per_cpu_ptr(&bp_cpu_use[type], bp->cpu);
	int before = cpu_use->cpu_bound, after;

	lockdep_assert_held_write(&bp_tables_sem);
	if (bp_flexible(bp)) {
		bp_hist_switch(&cpu_use->flex, type, 0, share, add);
		/* bp_cpu_flex_may_add() reads it without the lock. */
		WRITE_ONCE(cpu_use->flex_share,
			   bp_hist_top(&cpu_use->flex, type));
	} else {
		cpu_use->pinned += add ? share : -share;
	}
	after = cpu_use->pinned + cpu_use->flex_share;
	bp_hist_move(&bp_all_cpus[type].cpu_bound, type, before, after);
	/* bp_cpu_flex_may_add() reads it without the lock. */
	WRITE_ONCE(cpu_use->cpu_bound, after);
}

/*
 * Count @bp, for @share slots, into (@add) or out of the tables. @bp is
 * left out of its task's breakpoints while this runs, whether or not it
 * is in bp_task_table.
 */
static void bp_account(struct perf_event *bp, enum bp_type_idx type,
		       int share, bool add)
{
	struct bp_cpu_use *cpu_use;
	struct bp_task_use others;
	struct bp_use on_cpu;
	int cpu, any_cpu;

	if (!bp->hw.target) {
		bp_account_cpu(bp, type, share, add);
		return;
	}

	others = bp_task_use(bp, type);
	any_cpu = bp_use_slots(others.any_cpu);

	/* 1. The task stays in any_cpu_tasks, with or without @bp. */
	if (!others.one_cpu && bp->cpu < 0) {
		bp_hist_switch(&bp_all_cpus[type].any_cpu_tasks, type, any_cpu,
			       bp_use_slots(bp_use_with(others.any_cpu, bp,
							share)), add);
		return;
	}

	/*
	 * 2. @bp is, or becomes, the task's only breakpoint bound to a CPU:
	 *    the task moves between any_cpu_tasks and the per-CPU task
	 *    histograms, where it takes any_cpu slots on every CPU and its
	 *    use with @bp on @bp's. With nothing that follows the task
	 *    everywhere, only @bp's CPU counts it: a task with one
	 *    breakpoint on one CPU costs O(1), not a visit to every CPU.
	 */
	if (!others.one_cpu) {
		on_cpu = bp_use_with(others.any_cpu, bp, share);
		for_each_cpu(cpu, any_cpu ? cpu_possible_mask :
			     cpumask_of(bp->cpu)) {
			cpu_use = per_cpu_ptr(&bp_cpu_use[type], cpu);
			bp_hist_switch(&cpu_use->tasks, type, 0,
				       cpu == bp->cpu ? bp_use_slots(on_cpu) :
				       any_cpu, add);
		}
		bp_hist_switch(&bp_all_cpus[type].any_cpu_tasks, type,
			       any_cpu, 0, add);
		return;
	}

	/* 3. The task stays in the per-CPU histograms of @bp's CPUs. */
	for_each_cpu(cpu, bp_cpus(bp)) {
		cpu_use = per_cpu_ptr(&bp_cpu_use[type], cpu);
		on_cpu = bp_task_use_on(bp, type, cpu);
		bp_hist_switch(&cpu_use->tasks, type, bp_use_slots(on_cpu),
			       bp_use_slots(bp_use_with(on_cpu, bp, share)),
			       add);
	}
}

/* === Reserve, release, modify === */

/*
 * Record, under the locks, @bp's weight, whether it is flexible and its
 * share. A breakpoint that leads its group is reserved before any member
 * exists: its share is its weight, with no walk.
 */
static int bp_mark(struct perf_event *bp, enum bp_type_idx type, int weight,
		   bool flexible)
{
	int share = weight;

	if (bp->group_leader != bp)
		share = bp_group_share(bp, type, weight, flexible);
	bp_set_priv(bp, weight, share, flexible);
	if (flexible)
		atomic_inc(&bp_nr_flexible);
	return share;
}

static void bp_unmark(struct perf_event *bp)
{
	if (bp_flexible(bp))
		WARN_ON_ONCE(atomic_dec_return(&bp_nr_flexible) < 0);
	bp_set_priv(bp, 0, 0, false);
}

/* Whether @bp is in bp_task_table: see bp_task_table_params. */
static bool bp_in_table(struct perf_event *bp)
{
	return bp->hw.target || bp_flexible(bp);
}

static int bp_reserve_locked(struct perf_event *bp)
{
	enum bp_type_idx type = bp_slot_type(bp->attr.bp_type);
	int weight = hw_breakpoint_weight(&bp->attr);
	int share, ret;

	bp_assert_locked(bp);
	share = bp_mark(bp, type, weight, bp_flexible_mode &&
			bp_leader_rotates(bp));
	if (bp_slots_needed(bp, type, share) > bp_nr_slots[type]) {
		ret = -ENOSPC;
		goto unmark;
	}

	bp_account(bp, type, share, true);
	if (!bp_in_table(bp))
		return 0;

	ret = rhltable_insert(&bp_task_table, &bp->hw.bp_list,
			      bp_task_table_params);
	if (!ret)
		return 0;
	bp_account(bp, type, share, false);
unmark:
	bp_unmark(bp);
	return ret;
}

static void bp_release_locked(struct perf_event *bp)
{
	enum bp_type_idx type = bp_slot_type(bp->attr.bp_type);

	bp_assert_locked(bp);
	if (bp_in_table(bp))
		WARN_ON_ONCE(rhltable_remove(&bp_task_table, &bp->hw.bp_list,
					     bp_task_table_params));
	bp_account(bp, type, bp_share(bp), false);
	bp_unmark(bp);
}

/* The fields of a breakpoint's attr that modification may change. */
static void bp_copy_attr(struct perf_event_attr *to,
			 const struct perf_event_attr *from)
{
	to->bp_addr = from->bp_addr;
	/* Pairs with READ_ONCE() in bp_task_walk(). */
	WRITE_ONCE(to->bp_type, from->bp_type);
	to->bp_len = from->bp_len;
	to->disabled = from->disabled;
}

/* Give @bp the new attributes and the arch's encoding of them. */
static void bp_commit(struct perf_event *bp, const struct perf_event_attr *attr,
		      const struct arch_hw_breakpoint *hw)
{
	bp_copy_attr(&bp->attr, attr);
	bp->hw.info = *hw;
}

/*
 * Move @bp to the slots @attr asks for and commit @attr and @hw to it.
 * When the new slots do not fit, @bp keeps its old ones and -ENOSPC is
 * returned. The commit happens under the locks, so a walk of the task's
 * breakpoints never sees @bp counted under one type and typed another.
 */
static int bp_move_locked(struct perf_event *bp,
			  const struct perf_event_attr *attr,
			  const struct arch_hw_breakpoint *hw)
{
	enum bp_type_idx old_type = bp_slot_type(bp->attr.bp_type);
	enum bp_type_idx new_type = bp_slot_type(attr->bp_type);
	int old_share = bp_share(bp);
	int new_weight = hw_breakpoint_weight(attr);
	int new_share = bp_group_share(bp, new_type, new_weight,
				       bp_flexible(bp));

	bp_assert_locked(bp);
	bp_account(bp, old_type, old_share, false);
	if (bp_slots_needed(bp, new_type, new_share) > bp_nr_slots[new_type]) {
		/* Fits: these slots were @bp's a moment ago. */
		bp_account(bp, old_type, old_share, true);
		return -ENOSPC;
	}
	bp_account(bp, new_type, new_share, true);
	bp_set_priv(bp, new_weight, new_share, bp_flexible(bp));
	bp_commit(bp, attr, hw);
	return 0;
}

/*
 * Apply a validated @attr to @bp. When its slots stay the same (same type
 * and weight) no table changes and no lock is taken: ptrace's overflow
 * handler on powerpc, sh and loongarch disables the current task's
 * breakpoint this way from the debug exception, with interrupts off.
 * A walk of the task's breakpoints may then read @bp's bp_type while it
 * changes, but between values of the same slot type, which is all the
 * walk looks at; the arch encoding is not read while @bp is disabled.
 */
static int bp_modify(struct perf_event *bp, const struct perf_event_attr *attr,
		     const struct arch_hw_breakpoint *hw)
{
	struct mutex *task_lock;	/* as bp_lock() returns it */
	int ret;

	if (bp_slot_type(bp->attr.bp_type) == bp_slot_type(attr->bp_type) &&
	    bp_weight(bp) == hw_breakpoint_weight(attr)) {
		bp_commit(bp, attr, hw);
		return 0;
	}

	might_sleep();
	task_lock = bp_lock(bp);
	ret = bp_move_locked(bp, attr, hw);
	bp_unlock(task_lock);
	return ret;
}

/**
 * reserve_bp_slot - reserve the debug-register slots of a breakpoint
 * @bp: the breakpoint event, initialised but not yet counted
 *
 * Context: process context; takes the constraint locks (may sleep).
 * Return: 0, -ENOSPC if a CPU @bp can run on has no room left, or -ENOMEM.
 */
int reserve_bp_slot(struct perf_event *bp)
{
	struct mutex *task_lock = bp_lock(bp);
	int ret = bp_reserve_locked(bp);

	bp_unlock(task_lock);
	return ret;
}

/**
 * release_bp_slot - give back the slots reserve_bp_slot() counted for @bp
 * @bp: the breakpoint event
 *
 * Context: process context; takes the constraint locks (may sleep).
 */
void release_bp_slot(struct perf_event *bp)
{
	struct mutex *task_lock = bp_lock(bp);

	bp_release_locked(bp);
	bp_unlock(task_lock);
}

/**
 * dbg_reserve_bp_slot - reserve_bp_slot() for the kernel debugger
 * @bp: the breakpoint event
 *
 * Context: kgdb, with every other CPU stopped: takes no lock, and refuses
 * when a stopped CPU may be half way through changing the tables.
 * Return: 0, -EBUSY if the tables are being changed, or as reserve_bp_slot().
 */
int dbg_reserve_bp_slot(struct perf_event *bp)
{
	int ret;

	if (bp_lock_busy(bp))
		return -EBUSY;

	/* The other CPUs are stopped: the tables are ours without the locks. */
	lockdep_off();
	ret = bp_reserve_locked(bp);
	lockdep_on();
	return ret;
}

/**
 * dbg_release_bp_slot - release_bp_slot() for the kernel debugger
 * @bp: the breakpoint event
 *
 * Context: as dbg_reserve_bp_slot().
 * Return: 0, or -EBUSY if the tables are being changed (nothing released).
 */
int dbg_release_bp_slot(struct perf_event *bp)
{
	if (bp_lock_busy(bp))
		return -EBUSY;

	lockdep_off();
	bp_release_locked(bp);
	lockdep_on();
	return 0;
}

/* === Validation === */

/* Read, write or both; or execute alone. */
static bool bp_type_valid(u64 bp_type)
{
	return bp_type && !(bp_type & ~HW_BREAKPOINT_INVALID) &&
	       !((bp_type & HW_BREAKPOINT_X) && (bp_type & HW_BREAKPOINT_RW));
}

/*
 * Checks common to every arch, then the arch's own, into @hw. Kernel
 * addresses need CAP_SYS_ADMIN: a breakpoint on the debug exception path
 * itself would recurse, and only the arch knows all of that path.
 */
static int bp_parse(struct perf_event *bp, const struct perf_event_attr *attr,
		    struct arch_hw_breakpoint *hw)
{
	int ret;

	if (!bp_type_valid(attr->bp_type))
		return -EINVAL;

	ret = hw_breakpoint_arch_parse(bp, attr, hw);
	if (ret || !arch_check_bp_in_kernelspace(hw))
		return ret;

	/* A kernel address: it cannot be watched in user mode only. */
	if (attr->exclude_kernel)
		return -EINVAL;
	return capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

/* === Registration API === */

/**
 * register_user_hw_breakpoint - set a breakpoint in a task
 * @attr: what to watch: bp_addr, bp_len, bp_type (hw_breakpoint_init()
 *        or ptrace_breakpoint_init() fill in the rest)
 * @triggered: called on every hit, in the debug exception's context
 * @context: stored in the event for @triggered
 * @tsk: the task; the breakpoint follows it on every CPU
 *
 * Context: process context, may sleep.
 * Return: the breakpoint's event, or an ERR_PTR(): -EINVAL or -EPERM for a
 * request the arch refuses, -EOPNOTSUPP for a kind of register the CPU
 * lacks, -ENOSPC when the task has no register left.
 */
struct perf_event *register_user_hw_breakpoint(struct perf_event_attr *attr,
					       perf_overflow_handler_t triggered,
					       void *context,
					       struct task_struct *tsk)
{
	const int any_cpu = -1;

	return perf_event_create_kernel_counter(attr, any_cpu, tsk, triggered,
						context);
}
EXPORT_SYMBOL_GPL(register_user_hw_breakpoint);

/**
 * unregister_hw_breakpoint - remove a breakpoint and free its slots
 * @bp: the breakpoint, or NULL (nothing to do)
 *
 * Context: process context, may sleep.
 */
void unregister_hw_breakpoint(struct perf_event *bp)
{
	if (bp)
		perf_event_release_kernel(bp);
}
EXPORT_SYMBOL_GPL(unregister_hw_breakpoint);

/**
 * unregister_wide_hw_breakpoint - undo register_wide_hw_breakpoint()
 * @cpu_events: the per-CPU events it returned
 *
 * Context: process context, may sleep.
 */
void unregister_wide_hw_breakpoint(struct perf_event *__percpu *cpu_events)
{
	int cpu;

	/* CPUs that were offline at registration hold NULL: skipped. */
	for_each_possible_cpu(cpu)
		unregister_hw_breakpoint(*per_cpu_ptr(cpu_events, cpu));
	free_percpu(cpu_events);
}
EXPORT_SYMBOL_GPL(unregister_wide_hw_breakpoint);

/**
 * register_wide_hw_breakpoint - set a breakpoint on every online CPU
 * @attr: what to watch (kernel addresses need CAP_SYS_ADMIN)
 * @triggered: called on every hit, in the debug exception's context
 * @context: stored in each event for @triggered
 *
 * One CPU-bound event per online CPU; CPUs that come online later get
 * none, and perf switches a CPU's event off for good when the CPU goes
 * offline (register_wide_hw_breakpoint_hotplug() follows them). Either
 * every online CPU gets one or none does.
 *
 * Context: process context, may sleep.
 * Return: the per-CPU events, for unregister_wide_hw_breakpoint(), or an
 * ERR_PTR() (-EINVAL, -EPERM or -EOPNOTSUPP as for
 * register_user_hw_breakpoint(), -ENOSPC when a CPU has no register left).
 */
struct perf_event *__percpu *register_wide_hw_breakpoint(struct perf_event_attr *attr,
							  perf_overflow_handler_t triggered,
							  void *context)
{
	struct perf_event *__percpu *events = alloc_percpu(struct perf_event *);
	int cpu, ret = 0;

	if (!events)
		return (void __percpu __force *)ERR_PTR(-ENOMEM);

	/* Hold the set of online CPUs still: each gets exactly one event. */
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct perf_event *bp;

		bp = perf_event_create_kernel_counter(attr, cpu, NULL, triggered,
						      context);
		ret = PTR_ERR_OR_ZERO(bp);
		if (ret)
			break;
		*per_cpu_ptr(events, cpu) = bp;
	}
	cpus_read_unlock();

	if (!ret)
		return events;

	/* All or nothing: drop the events already made. */
	unregister_wide_hw_breakpoint(events);
	return (void __percpu __force *)ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(register_wide_hw_breakpoint);

/* === Wide breakpoints that follow CPU hotplug === */

/*
 * One register_wide_hw_breakpoint_hotplug() breakpoint: what each CPU's
 * event is made from, and the events. bp_hotplug_state's callbacks run
 * on a CPU coming online or going offline, with the hotplug lock held
 * for writing; registration and unregistration hold it for reading
 * while they create or drop the online CPUs' events and add or remove
 * the instance, so every CPU gets its event exactly once.
 */
struct bp_wide_hotplug {
	struct hlist_node		node;	/* bp_hotplug_state's instance */
	struct list_head		list;	/* bp_hotplug_list */
	struct perf_event *__percpu	*events;
	struct perf_event_attr		attr;
	perf_overflow_handler_t		triggered;
	void				*context;
};

/*
 * bp_hotplug_lock serializes registrations against unregistrations,
 * protects bp_hotplug_list and the one-time setup of bp_hotplug_state;
 * it nests outside the CPU hotplug lock, which the callbacks never take
 * it under.
 */
static DEFINE_MUTEX(bp_hotplug_lock);
static LIST_HEAD(bp_hotplug_list);
static int bp_hotplug_state;

/*
 * A CPU came online: its event. A failure (no register left there) does
 * not keep the CPU offline: the CPU runs without it, said in the log.
 */
static int bp_hotplug_online(unsigned int cpu, struct hlist_node *node)
{
	struct bp_wide_hotplug *h = hlist_entry(node, struct bp_wide_hotplug,
						node);
	struct perf_event *bp;

	bp = perf_event_create_kernel_counter(&h->attr, cpu, NULL, h->triggered,
					      h->context);
	if (IS_ERR(bp)) {
		pr_warn("hw_breakpoint: CPU %u is online without its wide breakpoint: %ld\n",
			cpu, PTR_ERR(bp));
		return 0;
	}
	WRITE_ONCE(*per_cpu_ptr(h->events, cpu), bp);
	return 0;
}

/*
 * A CPU goes offline: its event goes, unpublished first. A move from this
 * CPU (modify_wide_hw_breakpoint_local(), interrupts off) either ran
 * before the store or finds NULL; no other CPU uses this CPU's event.
 */
static int bp_hotplug_offline(unsigned int cpu, struct hlist_node *node)
{
	struct bp_wide_hotplug *h = hlist_entry(node, struct bp_wide_hotplug,
						node);
	struct perf_event *bp = *per_cpu_ptr(h->events, cpu);

	WRITE_ONCE(*per_cpu_ptr(h->events, cpu), NULL);
	unregister_hw_breakpoint(bp);
	return 0;
}

/**
 * register_wide_hw_breakpoint_hotplug - a breakpoint on every CPU, online now or later
 * @attr: what to watch (kernel addresses need CAP_SYS_ADMIN)
 * @triggered: called on every hit, in the debug exception's context
 * @context: stored in each event for @triggered
 *
 * As register_wide_hw_breakpoint() for the CPUs online now, and each CPU
 * that comes online later gets its event too, made from @attr (not from
 * an address modify_wide_hw_breakpoint_local() moved another CPU's event
 * to); a CPU that goes offline loses its event. A CPU coming online
 * where the event cannot be made (-ENOSPC) comes online without it, with
 * a warning in the log, and its entry stays NULL. A CPU's entry is valid
 * on that CPU while it is online; read other CPUs' entries under
 * cpus_read_lock().
 *
 * Context: process context, may sleep; not from a CPU hotplug callback.
 * Return: the per-CPU events, for unregister_wide_hw_breakpoint_hotplug(),
 * or an ERR_PTR() as register_wide_hw_breakpoint() (or a failure to set
 * up the hotplug state).
 */
struct perf_event *__percpu *
register_wide_hw_breakpoint_hotplug(struct perf_event_attr *attr,
				    perf_overflow_handler_t triggered,
				    void *context)
{
	struct bp_wide_hotplug *h;
	int cpu, ret;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return (void __percpu __force *)ERR_PTR(-ENOMEM);
	h->events = alloc_percpu(struct perf_event *);
	if (!h->events) {
		kfree(h);
		return (void __percpu __force *)ERR_PTR(-ENOMEM);
	}
	h->attr = *attr;
	h->triggered = triggered;
	h->context = context;

	mutex_lock(&bp_hotplug_lock);
	if (!bp_hotplug_state) {
		ret = cpuhp_setup_state_multi(CPUHP_AP_ONLINE_DYN,
					      "perf/hw_breakpoint:wide",
					      bp_hotplug_online,
					      bp_hotplug_offline);
		if (ret < 0)
			goto unlock;
		bp_hotplug_state = ret;
	}

	cpus_read_lock();
	ret = 0;
	for_each_online_cpu(cpu) {
		struct perf_event *bp;

		bp = perf_event_create_kernel_counter(attr, cpu, NULL, triggered,
						      context);
		ret = PTR_ERR_OR_ZERO(bp);
		if (ret)
			break;
		*per_cpu_ptr(h->events, cpu) = bp;
	}
	if (!ret)
		ret = cpuhp_state_add_instance_nocalls_cpuslocked(bp_hotplug_state,
								  &h->node);
	if (ret) {
		for_each_online_cpu(cpu)
			unregister_hw_breakpoint(*per_cpu_ptr(h->events, cpu));
	}
	cpus_read_unlock();
	if (!ret)
		list_add(&h->list, &bp_hotplug_list);
unlock:
	mutex_unlock(&bp_hotplug_lock);
	if (!ret)
		return h->events;
	free_percpu(h->events);
	kfree(h);
	return (void __percpu __force *)ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(register_wide_hw_breakpoint_hotplug);

/**
 * unregister_wide_hw_breakpoint_hotplug - undo register_wide_hw_breakpoint_hotplug()
 * @cpu_events: the per-CPU events it returned
 *
 * Context: process context, may sleep; not from a CPU hotplug callback.
 */
void unregister_wide_hw_breakpoint_hotplug(struct perf_event *__percpu *cpu_events)
{
	struct bp_wide_hotplug *iter, *h = NULL;
	int cpu;

	mutex_lock(&bp_hotplug_lock);
	list_for_each_entry(iter, &bp_hotplug_list, list) {
		if (iter->events == cpu_events) {
			h = iter;
			break;
		}
	}
	if (WARN_ON_ONCE(!h)) {
		mutex_unlock(&bp_hotplug_lock);
		return;
	}
	list_del(&h->list);
	/*
	 * No callback runs for it once this returns. A CPU that went down
	 * after that keeps its entry (perf switched the event off): every
	 * possible CPU's is dropped.
	 */
	cpuhp_state_remove_instance_nocalls(bp_hotplug_state, &h->node);
	for_each_possible_cpu(cpu)
		unregister_hw_breakpoint(*per_cpu_ptr(cpu_events, cpu));
	mutex_unlock(&bp_hotplug_lock);
	free_percpu(cpu_events);
	kfree(h);
}
EXPORT_SYMBOL_GPL(unregister_wide_hw_breakpoint_hotplug);

/**
 * modify_user_hw_breakpoint_check - change a breakpoint's address, length,
 * type or disabled bit
 * @bp: the breakpoint, disabled by the caller
 * @attr: the new attributes
 * @check: refuse (-EINVAL) an @attr that differs from @bp's in any other
 *         field, as PERF_EVENT_IOC_MODIFY_ATTRIBUTES requires
 *
 * The slots move with the breakpoint when its type (instruction or data)
 * or weight changes; if the new ones do not fit, @bp is left as it was.
 *
 * Context: process context; may sleep only when the slot type or weight
 * changes (then it takes the constraint locks). With both unchanged, any
 * context in which @bp's owner may change it, interrupts off included.
 * Return: 0, -EINVAL or -EPERM for an invalid @attr, -ENOSPC.
 */
int modify_user_hw_breakpoint_check(struct perf_event *bp,
				    struct perf_event_attr *attr, bool check)
{
	struct arch_hw_breakpoint hw = { };
	int ret;

	ret = bp_parse(bp, attr, &hw);
	if (ret)
		return ret;

	if (check) {
		struct perf_event_attr expect = bp->attr;

		bp_copy_attr(&expect, attr);
		if (memcmp(&expect, attr, sizeof(expect)))
			return -EINVAL;
	}

	return bp_modify(bp, attr, &hw);
}

/*
 * Stop @bp before it is changed. ptrace may ask with interrupts off, for
 * the current task's own breakpoint: then its CPU is this one, and no IPI
 * is needed (nor could one be sent).
 */
static void bp_disable(struct perf_event *bp)
{
	if (irqs_disabled() && bp->ctx && bp->ctx->task == current)
		perf_event_disable_local(bp);
	else
		perf_event_disable(bp);
}

/**
 * modify_user_hw_breakpoint - change a task breakpoint, as ptrace does
 * @bp: the breakpoint
 * @attr: the new attributes (address, length, type, disabled)
 *
 * Disables @bp, applies @attr (see modify_user_hw_breakpoint_check()) and
 * enables it again unless @attr says disabled.
 *
 * Context: process context, may sleep. With interrupts disabled, for the
 * current task's own breakpoint, as long as the slot type and weight stay
 * the same and @attr disables it (as ptrace's overflow handlers do):
 * then nothing sleeps.
 * Return: as modify_user_hw_breakpoint_check().
 */
int modify_user_hw_breakpoint(struct perf_event *bp,
			      struct perf_event_attr *attr)
{
	int ret;

	bp_disable(bp);
	ret = modify_user_hw_breakpoint_check(bp, attr, false);
	/* On again, unless the new (or, refused, the old) attr says off. */
	if (!bp->attr.disabled)
		perf_event_enable(bp);
	return ret;
}
EXPORT_SYMBOL_GPL(modify_user_hw_breakpoint);

/**
 * hw_breakpoint_is_used - whether any breakpoint holds a slot anywhere
 *
 * For tests and debugging: a snapshot, taken without the locks.
 *
 * Return: true if some CPU or task has a breakpoint slot reserved.
 */
bool hw_breakpoint_is_used(void)
{
	int cpu, type;

	if (!bp_tables_ready)
		return false;

	for (type = 0; type < TYPE_MAX; type++) {
		if (!bp_hist_empty(&bp_all_cpus[type].cpu_bound, type) ||
		    !bp_hist_empty(&bp_all_cpus[type].any_cpu_tasks, type))
			return true;
		for_each_possible_cpu(cpu) {
			struct bp_cpu_use *use = per_cpu_ptr(&bp_cpu_use[type], cpu);

			/* A snapshot: writers may be at work. */
			if (data_race(use->cpu_bound) ||
			    !bp_hist_empty(&use->tasks, type))
				return true;
		}
	}
	return false;
}

#ifdef CONFIG_DEBUG_FS
/*
 * <debugfs>/hw_breakpoint/in_use: hw_breakpoint_is_used() as 0 or 1, so
 * that tests in user space can check that nothing leaked a slot once
 * every breakpoint they made is gone.
 */
static int bp_in_use_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%d\n", hw_breakpoint_is_used());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bp_in_use);

static const char *bp_type_name(enum bp_type_idx type)
{
	if (IS_ENABLED(CONFIG_HAVE_MIXED_BREAKPOINTS_REGS))
		return "shared";
	return type == TYPE_INST ? "inst" : "data";
}

/* One task's line: its use of every CPU, and of those where it differs. */
static void bp_slots_task(struct seq_file *m, struct perf_event *first,
			  enum bp_type_idx type)
{
	bool counted = bp_slot_type(first->attr.bp_type) == type;
	int share = bp_share(first);
	struct task_struct *tsk = first->hw.target;
	struct bp_task_use use;
	struct bp_use on_cpu;
	int cpu;

	/*
	 * bp_tables_sem held for writing stops every task's reservations,
	 * so the walk needs no task lock. @first itself is left out of it:
	 * count it back in.
	 */
	lockdep_assert_held_write(&bp_tables_sem);
	use = __bp_task_walk(first, type, -1, NULL);
	if (counted && first->cpu < 0)
		use.any_cpu = bp_use_with(use.any_cpu, first, share);
	else if (counted)
		use.one_cpu = true;
	if (!bp_use_slots(use.any_cpu) && !use.one_cpu)
		return;

	seq_printf(m, "task %d %s %s: every cpu %d (pinned %d flexible %d)",
		   task_pid_nr(tsk), tsk->comm, bp_type_name(type),
		   bp_use_slots(use.any_cpu), use.any_cpu.pinned,
		   use.any_cpu.flex);
	for_each_cpu(cpu, use.one_cpu ? cpu_possible_mask : cpu_none_mask) {
		__bp_task_walk(first, type, cpu, &on_cpu);
		if (counted && (first->cpu < 0 || first->cpu == cpu))
			on_cpu = bp_use_with(on_cpu, first, share);
		if (bp_use_slots(on_cpu) != bp_use_slots(use.any_cpu))
			seq_printf(m, ", cpu%d %d", cpu, bp_use_slots(on_cpu));
	}
	seq_putc(m, '\n');
}

/*
 * <debugfs>/hw_breakpoint/slots: who holds the registers, for whoever
 * got -ENOSPC. Per CPU and type: the registers, the CPU-bound use
 * (pinned, and the flexible share), the busiest task's use there, what
 * is left for a new breakpoint, the registers installed now and the map
 * of them (one character per register: P held by a pinned event, F by a
 * flexible one, - free); then a line per task and type with breakpoints:
 * its use on every CPU, and on the CPUs where it differs. No addresses.
 * The tables are read under bp_tables_sem for writing, which stops every
 * reservation for the read; "installed" and the map are a snapshot of
 * the register map, which each CPU changes alone.
 */
static int bp_slots_show(struct seq_file *m, void *unused)
{
	struct rhashtable_iter iter;
	struct hw_perf_event *hw;
	struct perf_event *bp;
	int cpu, type;

	percpu_down_write(&bp_tables_sem);
	seq_printf(m, "flexible mode %d, %d flexible breakpoints\n",
		   bp_flexible_mode, atomic_read(&bp_nr_flexible));
	seq_puts(m, "cpu type registers cpu_bound pinned flexible busiest_task free installed map\n");
	for_each_possible_cpu(cpu) {
		for (type = 0; type < TYPE_MAX; type++) {
			struct bp_cpu_use *use = per_cpu_ptr(&bp_cpu_use[type], cpu);
			int busiest = max(bp_hist_top(&use->tasks, type),
					  bp_hist_top(&bp_all_cpus[type].any_cpu_tasks,
						      type));
			struct hw_breakpoint_regs *regs =
				per_cpu_ptr(&hw_breakpoint_regs[type], cpu);
			/* Changed by its CPU alone, unlocked: a snapshot. */
			unsigned long held = data_race(regs->held);
			/* The same CPU's, the same snapshot. */
			unsigned long flex = data_race(use->flex_held);
			char map[HW_BREAKPOINT_MAX_REGS + 1];
			int reg;

			for (reg = 0; reg < bp_nr_slots[type]; reg++)
				map[reg] = !(held & BIT(reg)) ? '-' :
					   (flex & BIT(reg)) ? 'F' : 'P';
			map[reg] = 0;
			seq_printf(m, "%d %s %d %d %d %d %d %d %d %s\n", cpu,
				   bp_type_name(type), bp_nr_slots[type],
				   use->cpu_bound, use->pinned,
				   use->flex_share, busiest,
				   bp_nr_slots[type] - use->cpu_bound - busiest,
				   (int)hweight_long(held), map);
		}
	}

	rhashtable_walk_enter(&bp_task_table.ht, &iter);
	rhashtable_walk_start(&iter);
	while ((hw = rhashtable_walk_next(&iter))) {
		struct rhlist_head *chain;

		if (IS_ERR(hw))
			continue;	/* a resize: a task may show twice */
		/* The table's objects are hw_perf_events (its offsets). */
		bp = container_of(hw, struct perf_event, hw);
		/* Once per task, at the head of its chain; CPUs are above. */
		if (!bp->hw.target)
			continue;
		chain = rhltable_lookup(&bp_task_table, &bp->hw.target,
					bp_task_table_params);
		if (!chain || container_of(chain, struct perf_event,
					   hw.bp_list) != bp)
			continue;
		for (type = 0; type < TYPE_MAX; type++)
			bp_slots_task(m, bp, type);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	percpu_up_write(&bp_tables_sem);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bp_slots);

static int __init bp_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("hw_breakpoint", NULL);

	debugfs_create_file("in_use", 0444, dir, NULL, &bp_in_use_fops);
	debugfs_create_file("slots", 0400, dir, NULL, &bp_slots_fops);
	return 0;
}
late_initcall(bp_debugfs_init);
#endif /* CONFIG_DEBUG_FS */

/* === The breakpoint PMU === */

static void bp_event_destroy(struct perf_event *bp)
{
	release_bp_slot(bp);
}

static int bp_event_init(struct perf_event *bp)
{
	struct arch_hw_breakpoint hw = { };
	int ret;

	if (bp->attr.type != PERF_TYPE_BREAKPOINT)
		return -ENOENT;
	if (has_branch_stack(bp))
		return -EOPNOTSUPP;
	/* A breakpoint belongs to a task, a CPU, or both. */
	if (!bp->hw.target && bp->cpu < 0)
		return -EINVAL;

	/*
	 * Some CPUs have no register of a kind (powerpc: no breakpoints).
	 * Asked before the arch parses, whose refusal of that kind would be
	 * -EINVAL, so that the errno says what is missing (6.12 answered
	 * -ENOSPC, as if the registers were merely taken).
	 */
	if (bp_type_valid(bp->attr.bp_type) &&
	    !bp_nr_slots[bp_slot_type(bp->attr.bp_type)])
		return -EOPNOTSUPP;
	ret = bp_parse(bp, &bp->attr, &hw);
	if (ret)
		return ret;

	ret = reserve_bp_slot(bp);
	if (ret)
		return ret;

	bp->hw.info = hw;
	bp->destroy = bp_event_destroy;
	return 0;
}

/* === The register map === */

/*
 * Changes of this CPU's registers under way: perf's add() or del(), or
 * a move (modify_local_hw_breakpoint_addr()). kgdb installs and removes
 * its breakpoints from NMI context (its round-up NMI, or the #DB or #BP
 * it entered through), and a tracer may move one from there, either of
 * which may land in the middle of one: an install or a move from there
 * then gets -EBUSY (kgdb leaves that breakpoint off on this CPU), so the
 * change it interrupted never finds a register taken or rewritten behind
 * its back. The bitmaps change by single
 * per-CPU operations, which an NMI cannot split, so a removal from NMI
 * leaves the map right at any point. (x86's own read-modify-write of
 * cpu_dr7 around it can still be split by kgdb's NMI, as in Linux 6.12.)
 */
static DEFINE_PER_CPU(unsigned int, bp_regs_busy);

/*
 * Give up the registers @bp holds of @type, each once it is off: the
 * arch clears it here when the core chose it, or has already cleared
 * them all (arch_uninstall_hw_breakpoint()) when it chose them itself.
 * Only the registers in @bp->hw.bp_regs are touched: del() costs the
 * same however many other events hold registers here.
 */
static void bp_regs_drop(enum bp_type_idx type, struct perf_event *bp)
{
	unsigned long mine = bp->hw.bp_regs, left;
	int reg;

	for (left = mine; left; left &= left - 1) {
		reg = __ffs(left);
#ifdef arch_hw_breakpoint_program
		arch_hw_breakpoint_clear(bp, reg);
#endif
		/* Written once the register is off: see struct hw_breakpoint_regs. */
		barrier();
		this_cpu_write(hw_breakpoint_regs[type].owner[reg], NULL);
	}
	this_cpu_and(hw_breakpoint_regs[type].held, ~mine);
	this_cpu_and(bp_cpu_use[type].flex_held, ~mine);
	bp->hw.bp_regs = 0;
}

/*
 * hw_breakpoint_install() with the map held still, for @weight registers
 * of @type. kgdb may install an event whose reservation it dropped
 * (weight 0): it takes one register.
 */
static int __bp_install(struct perf_event *bp, enum bp_type_idx type,
			int weight, bool flexible)
{
	unsigned long free, left, mine = 0;
	int piece, reg;

	if (!bp_nr_slots[type])
		return -EBUSY;
	free = ~this_cpu_read(hw_breakpoint_regs[type].held) &
	       GENMASK(bp_nr_slots[type] - 1, 0);
	weight = max(weight, 1);
	/*
	 * Enough of them free? Counted by taking them: hweight_long() is a
	 * call on CPUs without POPCNT, and this runs at every switch.
	 */
	for (piece = 0, left = free; piece < weight; piece++, left &= left - 1)
		if (!left)
			return -EBUSY;

	for (piece = 0; piece < weight; piece++) {
		reg = __ffs(free);
		free &= free - 1;
		mine |= BIT(reg);
		this_cpu_write(hw_breakpoint_regs[type].owner[reg], bp);
		this_cpu_or(hw_breakpoint_regs[type].held, BIT(reg));
		/* The owner is in place before the register can hit. */
		barrier();
#ifdef arch_hw_breakpoint_program
		arch_hw_breakpoint_program(bp, piece, reg);
#endif
	}
	/* Only this CPU, with interrupts off or in NMI, reads it: del(). */
	bp->hw.bp_regs = mine;
	if (flexible)
		this_cpu_or(bp_cpu_use[type].flex_held, mine);

#ifndef arch_hw_breakpoint_program
	/* The arch chooses its own registers; the map only counts them. */
	if (arch_install_hw_breakpoint(bp)) {
		bp_regs_drop(type, bp);
		return -EBUSY;
	}
#endif
	return 0;
}

/* Installs outside NMI: a kgdb NMI meanwhile gets -EBUSY. */
static int bp_install(struct perf_event *bp, enum bp_type_idx type,
		      int weight, bool flexible)
{
	int ret;

	this_cpu_inc(bp_regs_busy);
	ret = __bp_install(bp, type, weight, flexible);
	this_cpu_dec(bp_regs_busy);
	return ret;
}

/**
 * hw_breakpoint_install - give a breakpoint its registers on this CPU
 * @bp: the breakpoint, parsed by the arch
 *
 * Takes as many free registers of @bp's kind as its weight, all or none,
 * the lowest first, records @bp as their owner (and them in
 * @bp->hw.bp_regs, for hw_breakpoint_uninstall()) and has the arch
 * program them. perf's add() calls it, and kgdb does, through the arch, for the
 * breakpoints it installs outside perf.
 *
 * Context: interrupts disabled, on the CPU that is to watch; or NMI
 * (kgdb), which gets -EBUSY when it interrupted a change of the map.
 * Return: 0, or -EBUSY when too few registers are free.
 */
int hw_breakpoint_install(struct perf_event *bp)
{
	enum bp_type_idx type = bp_slot_type(bp->attr.bp_type);
	int weight = bp_weight(bp);
	bool flexible = bp_flexible(bp);

	lockdep_assert_irqs_disabled();
	if (in_nmi())
		return this_cpu_read(bp_regs_busy) ? -EBUSY :
		       __bp_install(bp, type, weight, flexible);
	return bp_install(bp, type, weight, flexible);
}

/**
 * hw_breakpoint_uninstall - free the registers a breakpoint holds here
 * @bp: the breakpoint, installed on this CPU by hw_breakpoint_install()
 *
 * Context: interrupts disabled, on the CPU it was installed on; or NMI
 * (kgdb).
 */
void hw_breakpoint_uninstall(struct perf_event *bp)
{
	enum bp_type_idx type = bp_slot_type(bp->attr.bp_type);
	bool nmi = in_nmi();

	lockdep_assert_irqs_disabled();
	if (!nmi)
		this_cpu_inc(bp_regs_busy);
#ifndef arch_hw_breakpoint_program
	arch_uninstall_hw_breakpoint(bp);
#endif
	bp_regs_drop(type, bp);
	if (!nmi)
		this_cpu_dec(bp_regs_busy);
}

/* === Moving a kernel watchpoint from any context === */

static struct pmu perf_breakpoint;

#ifdef arch_hw_breakpoint_program
/*
 * Whether @bp is a watchpoint the kernel made for itself on this CPU
 * alone: not opened by user space (perf_event_open(), or a debugger's
 * ptrace, which binds it to a task), and not a breakpoint on code.
 */
static bool bp_local_kernel_watch(struct perf_event *bp)
{
	return bp->pmu == &perf_breakpoint && is_kernel_event(bp) &&
	       !bp->hw.target && bp->cpu == smp_processor_id() &&
	       (bp->attr.bp_type & HW_BREAKPOINT_RW);
}

/*
 * Commit @hw, the arch's encoding of @addr, to @bp and reprogram the
 * registers it holds here, the lowest first as __bp_install() gave them
 * to its pieces. An event that holds none (rotated out, disabled) gets
 * the new address at its next add().
 */
static void bp_move_here(struct perf_event *bp, unsigned long addr,
			 const struct arch_hw_breakpoint *hw)
{
	unsigned long left;
	int piece = 0;

	WRITE_ONCE(bp->attr.bp_addr, addr);
	bp->hw.info = *hw;
	/* The new encoding is in place before a register can hit with it. */
	barrier();
	for (left = bp->hw.bp_regs; left; left &= left - 1)
		arch_hw_breakpoint_move(bp, piece++, __ffs(left));
}
#endif

/**
 * modify_local_hw_breakpoint_addr - move a kernel watchpoint of this CPU
 * @bp: a data watchpoint the kernel created bound to the current CPU (one
 *	CPU's event of register_wide_hw_breakpoint(), or a CPU-bound
 *	perf_event_create_kernel_counter() event)
 * @addr: the address to watch from now on, with @bp's type and length
 *
 * Unlike modify_user_hw_breakpoint(), this never sleeps, takes no lock
 * and does not go through perf: the watchpoint keeps its registers and
 * its reservation, and only the address they watch changes, so it can
 * follow an object from a tracing handler. Its overflow handler can move
 * it too (the hit is reported first). Accesses to the old address on
 * this CPU stop counting when it returns; the other CPUs' events of a
 * wide watchpoint are not touched (modify_wide_hw_breakpoint_local()
 * moves this CPU's one; run it on each CPU to move them all).
 *
 * The caller keeps @bp alive and does not modify or unregister it
 * meanwhile. A modification the function refuses leaves @bp as it was.
 * On x86 the new address is recorded where hw_breakpoint_restore() reads
 * it before DRn changes, so an NMI in between restores the new one.
 *
 * Context: any, NMI included; interrupts are disabled inside.
 * Return: 0; -EINVAL if @bp is not a kernel-owned data watchpoint bound
 * to this CPU, or @addr is misaligned for its length, refused by the
 * arch (an address the debug exception path uses), on the other side of
 * the user/kernel boundary from the current one, or needs another number
 * of registers (a range split differently); -EOPNOTSUPP on an arch that
 * chooses its own registers (no arch_hw_breakpoint_program); -EBUSY from
 * an NMI that interrupted a change of this CPU's registers (perf's add()
 * or del(), or another move), which then keep the old address.
 */
int modify_local_hw_breakpoint_addr(struct perf_event *bp, unsigned long addr)
{
#ifdef arch_hw_breakpoint_program
	struct arch_hw_breakpoint hw;
	struct perf_event_attr attr;
	unsigned long flags;
	int ret;

	local_irq_save(flags);
	ret = -EINVAL;
	if (!bp_local_kernel_watch(bp))
		goto out;
	attr = bp->attr;
	attr.bp_addr = addr;
	ret = hw_breakpoint_arch_parse(bp, &attr, &hw);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (!arch_check_bp_in_kernelspace(&hw) !=
	    !arch_check_bp_in_kernelspace(&bp->hw.info) ||
	    hw_breakpoint_weight(&attr) != bp_weight(bp))
		goto out;
	/* A change of the registers under way here: see bp_regs_busy. */
	ret = -EBUSY;
	if (this_cpu_read(bp_regs_busy))
		goto out;
	ret = 0;
	this_cpu_inc(bp_regs_busy);
	bp_move_here(bp, addr, &hw);
	this_cpu_dec(bp_regs_busy);
out:
	local_irq_restore(flags);
	return ret;
#else
	return -EOPNOTSUPP;
#endif
}
EXPORT_SYMBOL_GPL(modify_local_hw_breakpoint_addr);

/**
 * modify_wide_hw_breakpoint_local - move this CPU's event of a wide watchpoint
 * @cpu_events: the result of register_wide_hw_breakpoint()
 * @addr: the address this CPU's event watches from now on
 *
 * modify_local_hw_breakpoint_addr() on the event @cpu_events has for
 * the current CPU.
 *
 * Context: any, NMI included.
 * Return: as modify_local_hw_breakpoint_addr(); -ENOENT when this CPU
 * has no event (it was offline at registration).
 */
int modify_wide_hw_breakpoint_local(struct perf_event *__percpu *cpu_events,
				    unsigned long addr)
{
	unsigned long flags;
	struct perf_event *bp;
	int ret;

	local_irq_save(flags);
	bp = *this_cpu_ptr(cpu_events);
	ret = bp ? modify_local_hw_breakpoint_addr(bp, addr) : -ENOENT;
	local_irq_restore(flags);
	return ret;
}
EXPORT_SYMBOL_GPL(modify_wide_hw_breakpoint_local);

/* perf's view of a breakpoint: a stopped one does not count its hits. */
static void bp_pmu_set_running(struct perf_event *bp, bool running)
{
	bp->hw.state = running ? 0 : PERF_HES_STOPPED;
}

/*
 * May a flexible breakpoint of a CPU's own context (no task) take @weight
 * more registers of @cpu_use's CPU now? perf schedules those before the
 * task's flexible ones, so they must leave the registers any task may
 * need there, its flexible share included: the CPU's flexible
 * breakpoints rotate through N minus the CPU's pinned slots minus the
 * busiest task's use, at least their own share, and a task's flexible
 * breakpoints never starve behind them. The task histograms may be
 * changing under us: a stale read only moves the line until the next
 * rotation. Whether a register is free at all, hw_breakpoint_install()
 * finds out.
 */
static bool bp_cpu_flex_may_add(struct bp_cpu_use *cpu_use,
				enum bp_type_idx type, int weight)
{
	int limit = bp_nr_slots[type] - READ_ONCE(cpu_use->cpu_bound) +
		    READ_ONCE(cpu_use->flex_share) -
		    max(bp_hist_top_racy(&cpu_use->tasks, type),
			bp_hist_top_racy(&bp_all_cpus[type].any_cpu_tasks, type));

	return cpu_use->flex_installed + weight <= limit;
}

/*
 * Whether perf moved @bp, with its group, into another PMU's context: it
 * does when a hardware event joins a group of software events that a
 * breakpoint leads, after reservation counted the group's breakpoints as
 * flexible, in their owner's share. Stable while @bp is in a context, so
 * its add() and del() agree.
 */
static bool bp_moved(const struct perf_event *bp)
{
	return bp->pmu_ctx->pmu != bp->pmu;
}

/*
 * Two rules keep moved breakpoints inside what reservation promised, on
 * each CPU. First, the moved breakpoints of the running task hold at
 * most its flexible share at once, and the CPU's own at most the CPU's
 * (@flex_share): a pinned breakpoint being enabled reschedules this
 * PMU's events alone, so registers moved ones held beyond the share
 * would never be given back to it. The others wait for their own
 * context's rotation. A task's share is at least the widest share among
 * the group's breakpoints of this kind, which is what is compared.
 */
static int bp_group_widest_share(const struct perf_event *bp,
				 enum bp_type_idx type)
{
	struct perf_event *leader = bp->group_leader, *sib;
	int share = bp_share(bp);

	if (leader->pmu == bp->pmu &&
	    bp_slot_type(leader->attr.bp_type) == type)
		share = max(share, bp_share(leader));
	for_each_sibling_event(sib, leader) {
		if (sib->pmu == bp->pmu &&
		    bp_slot_type(sib->attr.bp_type) == type)
			share = max(share, bp_share(sib));
	}
	return share;
}

static bool bp_moved_may_add(struct bp_cpu_use *cpu_use,
			     struct perf_event *bp, enum bp_type_idx type,
			     int weight)
{
	if (!bp->hw.target)
		return cpu_use->moved_cpu_installed + weight <=
		       READ_ONCE(cpu_use->flex_share);
	return cpu_use->moved_installed + weight <=
	       bp_group_widest_share(bp, type);
}

/*
 * Second, one that finds no register pushes this PMU's own flexible
 * breakpoints on this CPU out, and they refuse to be scheduled in again
 * for two rotation intervals of the moved one's context, or until it is
 * in. Its context rotates, since its add() failed, and it gets in then.
 * Without the push, plain ones that all fit would never rotate, and the
 * moved one would wait for the task's next context switch; without the
 * refusal, they would take the registers back at each of their own
 * rotations, and it would never get in.
 *
 * The push is perf_pmu_resched() of this PMU, which takes the context
 * locks add() runs under, so an irq_work on this CPU does it once
 * interrupts are back on. It also takes this PMU's pinned breakpoints out
 * and back in, with interrupts off on this CPU, as enabling one of them
 * does. By then this CPU may run another task, whose flexible ones are
 * pushed out for the rest of the window: the waiter and its window are
 * per CPU, and both end within two intervals.
 */
static void bp_moved_push(struct irq_work *work)
{
	perf_pmu_resched(&perf_breakpoint);
}

static DEFINE_PER_CPU(struct irq_work, bp_push_work) =
	IRQ_WORK_INIT_HARD(bp_moved_push);

static void bp_moved_wait(struct bp_cpu_use *cpu_use, struct perf_event *bp)
{
	unsigned int ms = READ_ONCE(bp->pmu_ctx->pmu->hrtimer_interval_ms);

	cpu_use->moved_since = jiffies;
	cpu_use->moved_until = jiffies + msecs_to_jiffies(2 * ms) + 1;
	cpu_use->moved_waiter = bp;
	/* Only this PMU's own flexible ones can be pushed out. */
	if (hweight_long(cpu_use->flex_held) >
	    cpu_use->moved_installed + cpu_use->moved_cpu_installed)
		irq_work_queue(this_cpu_ptr(&bp_push_work));
}

static bool bp_yield_to_moved(struct bp_cpu_use *cpu_use)
{
	if (!cpu_use->moved_waiter)
		return false;
	if (time_in_range(jiffies, cpu_use->moved_since, cpu_use->moved_until))
		return true;
	cpu_use->moved_waiter = NULL;
	return false;
}

/*
 * add/del program and clear a debug register as the event is scheduled
 * in and out; start/stop leave the register alone. A flexible breakpoint
 * that finds no register returns -EBUSY, and perf's multiplexing timer
 * rotates it in later; a pinned one always finds its register.
 */
static int bp_pmu_add(struct perf_event *bp, int flags)
{
	enum bp_type_idx type = bp_slot_type(bp->attr.bp_type);
	struct bp_cpu_use *cpu_use = this_cpu_ptr(&bp_cpu_use[type]);
	int weight = bp_weight(bp);
	bool flexible = bp_flexible(bp);
	bool moved = flexible && bp_moved(bp);
	int ret;

	if (moved && !bp_moved_may_add(cpu_use, bp, type, weight))
		return -EBUSY;
	if (flexible && !moved && bp_yield_to_moved(cpu_use))
		return -EBUSY;
	if (flexible && !bp->hw.target &&
	    !bp_cpu_flex_may_add(cpu_use, type, weight)) {
		if (moved)
			bp_moved_wait(cpu_use, bp);
		return -EBUSY;
	}

	/* A sampling event counts a full period down from here. */
	if (is_sampling_event(bp)) {
		bp->hw.last_period = bp->hw.sample_period;
		perf_swevent_set_period(bp);
	}
	bp_pmu_set_running(bp, flags & PERF_EF_START);
	lockdep_assert_irqs_disabled();
	ret = bp_install(bp, type, weight, flexible);
	if (ret) {
		/*
		 * Admission promised a pinned breakpoint its registers; a
		 * flexible one waits for perf to rotate it in.
		 */
		WARN_ON_ONCE(!flexible);
		if (moved)
			bp_moved_wait(cpu_use, bp);
		return ret;
	}

	if (flexible && !bp->hw.target)
		cpu_use->flex_installed += weight;
	if (moved) {
		if (bp->hw.target)
			cpu_use->moved_installed += weight;
		else
			cpu_use->moved_cpu_installed += weight;
		if (cpu_use->moved_waiter == bp)
			cpu_use->moved_waiter = NULL;
	}
	return 0;
}

static void bp_pmu_del(struct perf_event *bp, int flags)
{
	enum bp_type_idx type = bp_slot_type(bp->attr.bp_type);
	struct bp_cpu_use *cpu_use = this_cpu_ptr(&bp_cpu_use[type]);
	int weight = bp_weight(bp);
	bool flexible = bp_flexible(bp);

	hw_breakpoint_uninstall(bp);
	if (flexible && !bp->hw.target)
		cpu_use->flex_installed -= weight;
	if (flexible && bp_moved(bp)) {
		if (bp->hw.target)
			cpu_use->moved_installed -= weight;
		else
			cpu_use->moved_cpu_installed -= weight;
	}
}

static void bp_pmu_start(struct perf_event *bp, int flags)
{
	bp_pmu_set_running(bp, true);
}

static void bp_pmu_stop(struct perf_event *bp, int flags)
{
	bp_pmu_set_running(bp, false);
}

/**
 * hw_breakpoint_set_flexible - turn flexible breakpoints on or off
 * @on: true: non-pinned breakpoints share a register and are multiplexed;
 *      false: every breakpoint is counted as pinned, as in Linux 6.12
 *
 * Context: process context, may sleep.
 * Return: 0, or -EBUSY when turning them off while one exists.
 */
VISIBLE_IF_KUNIT int hw_breakpoint_set_flexible(bool on)
{
	int ret = 0;

	percpu_down_write(&bp_tables_sem);
	if (!on && atomic_read(&bp_nr_flexible))
		ret = -EBUSY;
	else
		WRITE_ONCE(bp_flexible_mode, on);
	percpu_up_write(&bp_tables_sem);
	return ret;
}

#ifdef CONFIG_SYSFS
/*
 * /sys/bus/event_source/devices/breakpoint/: caps/breakpoints and
 * caps/watchpoints, the registers of each kind per CPU; caps/shared, 1
 * when one pool of registers serves both (then each count is the pool);
 * caps/max_watch_len, the longest range one watchpoint covers (at an
 * aligned address), where the arch says (HW_BREAKPOINT_MAX_WATCH_LEN); and
 * flexible, the switch above. Documented in
 * Documentation/ABI/testing/sysfs-bus-event_source-devices-breakpoint.
 */
static ssize_t breakpoints_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", bp_nr_slots[TYPE_INST]);
}
static DEVICE_ATTR_RO(breakpoints);

static ssize_t watchpoints_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", bp_nr_slots[TYPE_DATA]);
}
static DEVICE_ATTR_RO(watchpoints);

static ssize_t shared_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  IS_ENABLED(CONFIG_HAVE_MIXED_BREAKPOINTS_REGS));
}
static DEVICE_ATTR_RO(shared);

#ifdef HW_BREAKPOINT_MAX_WATCH_LEN
static ssize_t max_watch_len_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  (unsigned long long)HW_BREAKPOINT_MAX_WATCH_LEN);
}
static DEVICE_ATTR_RO(max_watch_len);
#endif

static struct attribute *bp_caps_attrs[] = {
	&dev_attr_breakpoints.attr,
	&dev_attr_watchpoints.attr,
	&dev_attr_shared.attr,
#ifdef HW_BREAKPOINT_MAX_WATCH_LEN
	&dev_attr_max_watch_len.attr,
#endif
	NULL,
};

static const struct attribute_group bp_caps_group = {
	.name	= "caps",
	.attrs	= bp_caps_attrs,
};

static ssize_t flexible_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	/* Pairs with WRITE_ONCE() in hw_breakpoint_set_flexible(). */
	return sysfs_emit(buf, "%d\n", READ_ONCE(bp_flexible_mode));
}

static ssize_t flexible_store(struct device *dev,
			      struct device_attribute *attr, const char *buf,
			      size_t count)
{
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (!ret)
		ret = hw_breakpoint_set_flexible(on);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(flexible);

static struct attribute *bp_pmu_attrs[] = {
	&dev_attr_flexible.attr,
	NULL,
};

static const struct attribute_group bp_pmu_group = {
	.attrs	= bp_pmu_attrs,
};

static const struct attribute_group *bp_pmu_attr_groups[] = {
	&bp_caps_group,
	&bp_pmu_group,
	NULL,
};

#define BP_PMU_ATTR_GROUPS	bp_pmu_attr_groups
#else
#define BP_PMU_ATTR_GROUPS	NULL
#endif /* CONFIG_SYSFS */

static struct pmu perf_breakpoint = {
	/* Breakpoints are scheduled with software events, per task. */
	.task_ctx_nr	= perf_sw_context,
	.attr_groups	= BP_PMU_ATTR_GROUPS,
	.event_init	= bp_event_init,
	.add = bp_pmu_add,	.del = bp_pmu_del,
	.start = bp_pmu_start,	.stop = bp_pmu_stop,
	.read		= hw_breakpoint_pmu_read,
};

/* The arch's debug exception handler sees every trap before anyone else. */
static struct notifier_block hw_breakpoint_exceptions_nb = {
	.notifier_call	= hw_breakpoint_exceptions_notify,
	.priority	= INT_MAX,
};

/* === Initialisation === */

static void bp_tables_free(void)
{
	int cpu, type;

	for (type = 0; type < TYPE_MAX; type++) {
		bp_hist_free(&bp_all_cpus[type].cpu_bound);
		bp_hist_free(&bp_all_cpus[type].any_cpu_tasks);
		for_each_possible_cpu(cpu) {
			bp_hist_free(&per_cpu_ptr(&bp_cpu_use[type], cpu)->tasks);
			bp_hist_free(&per_cpu_ptr(&bp_cpu_use[type], cpu)->flex);
		}
	}
}

static int bp_tables_alloc(void)
{
	int cpu, type;

	for (type = 0; type < TYPE_MAX; type++) {
		bp_nr_slots[type] = hw_breakpoint_slots(type);
		if (bp_nr_slots[type] > HW_BREAKPOINT_MAX_REGS) {
			pr_warn("hw-breakpoint: using %d of %d registers of type %d\n",
				HW_BREAKPOINT_MAX_REGS, bp_nr_slots[type], type);
			bp_nr_slots[type] = HW_BREAKPOINT_MAX_REGS;
		}
		if (bp_hist_alloc(&bp_all_cpus[type].cpu_bound, type) ||
		    bp_hist_alloc(&bp_all_cpus[type].any_cpu_tasks, type))
			goto nomem;
		for_each_possible_cpu(cpu) {
			struct bp_cpu_use *cpu_use = per_cpu_ptr(&bp_cpu_use[type],
								 cpu);

			if (bp_hist_alloc(&cpu_use->tasks, type) ||
			    bp_hist_alloc(&cpu_use->flex, type))
				goto nomem;
		}
	}
	return 0;

nomem:
	bp_tables_free();
	return -ENOMEM;
}

/**
 * init_hw_breakpoint - set up the allocator and register the PMU
 *
 * Called once by perf_event_init(). On failure everything it set up is
 * undone, and no breakpoint can be created.
 *
 * Context: boot, process context.
 * Return: 0, or a negative errno.
 */
int __init init_hw_breakpoint(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(bp_task_locks); i++)
		mutex_init(&bp_task_locks[i]);

	ret = bp_tables_alloc();
	if (ret)
		return ret;

	ret = rhltable_init(&bp_task_table, &bp_task_table_params);
	if (ret)
		goto free_tables;

	ret = register_die_notifier(&hw_breakpoint_exceptions_nb);
	if (ret)
		goto destroy_table;

	bp_tables_ready = true;
	ret = perf_pmu_register(&perf_breakpoint, "breakpoint",
				PERF_TYPE_BREAKPOINT);
	if (ret)
		goto unregister_notifier;

	pr_info("hw-breakpoint: %d instruction and %d data slots per CPU%s\n",
		bp_nr_slots[TYPE_INST], bp_nr_slots[TYPE_DATA],
		IS_ENABLED(CONFIG_HAVE_MIXED_BREAKPOINTS_REGS) ? " (shared)" : "");
	return 0;

unregister_notifier:
	bp_tables_ready = false;
	unregister_die_notifier(&hw_breakpoint_exceptions_nb);
destroy_table:
	rhltable_destroy(&bp_task_table);
free_tables:
	bp_tables_free();
	return ret;
}
