// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the hardware-breakpoint slot allocator: every answer it
 * gives (a breakpoint, or -ENOSPC) is checked against a brute-force
 * recount of the breakpoints the test holds, for CPU-bound and task
 * breakpoints, instruction and data slots, and breakpoints that take more
 * than one slot.
 *
 * Task breakpoints are set on a user-space address, which every arch
 * accepts for a task (arm64 refuses per-task kernel breakpoints). Needs at
 * least 2 CPUs and real debug registers (QEMU, not UML); see .kunitconfig.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/smp.h>

#include "hw_breakpoint_internal.h"

#define BP_TEST_MAX_BPS		256
#define BP_TEST_TASKS		3	/* current, and two kthreads never run */
#define BP_TEST_MAX_CPUS	8	/* the lowest and highest ids, half each */
#define BP_TEST_ADDR		0x100000UL	/* user space on every arch */
#define BP_TEST_WEIGHT_STEP	0x1000UL
#define BP_TEST_MAX_WEIGHT	64
#define BP_ANY_CPU		(-1)
#define BP_NO_TASK		(-1)

static unsigned int seed;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "seed of the randomized model test (0: random)");

/* One breakpoint the test holds, as the model sees it. */
struct bp_test_bp {
	struct perf_event	*event;
	int			cpu;	/* a CPU id, or BP_ANY_CPU */
	int			task;	/* index in bp_test::tasks, or BP_NO_TASK */
	bool			exec;	/* instruction rather than data */
	int			weight;
};

struct bp_test {
	struct kunit		*test;
	struct task_struct	*tasks[BP_TEST_TASKS];
	int			cpus[BP_TEST_MAX_CPUS];
	int			nr_cpus;
	struct bp_test_bp	bps[BP_TEST_MAX_BPS];
	int			nr_bps;
};

/*
 * The weight stub. A breakpoint's weight is encoded in its address, one of
 * the fields modification changes, so modifying the address changes the
 * weight as a range breakpoint's length would.
 */
static unsigned long bp_test_addr(int weight)
{
	return BP_TEST_ADDR + weight * BP_TEST_WEIGHT_STEP;
}

/*
 * test_dbg_busy()'s probe. The allocator asks for weights only with its
 * locks held; the first one asked for once @event is set tries the kernel
 * debugger's variants on @event from there, as kgdb may from a CPU it
 * stopped inside a reservation.
 */
static struct {
	struct perf_event	*event;
	int			reserve, release;
} bp_test_probe;

static int bp_test_weight(const struct perf_event_attr *attr)
{
	unsigned long step = (attr->bp_addr - BP_TEST_ADDR) / BP_TEST_WEIGHT_STEP;
	struct perf_event *probe = bp_test_probe.event;

	if (probe && attr != &probe->attr) {
		bp_test_probe.event = NULL;
		bp_test_probe.reserve = dbg_reserve_bp_slot(probe);
		bp_test_probe.release = dbg_release_bp_slot(probe);
	}

	/* Breakpoints elsewhere (test_wide_hits' kernel variable): one. */
	if (attr->bp_addr < BP_TEST_ADDR || step == 0 || step > BP_TEST_MAX_WEIGHT)
		return 1;
	return step;
}

static enum bp_type_idx bp_test_type(bool exec)
{
	return exec ? TYPE_INST : TYPE_DATA;
}

static int bp_test_slots(bool exec)
{
	return hw_breakpoint_slots(bp_test_type(exec));
}

/* === The model: a brute-force recount === */

static int model_cpu_bound(struct bp_test *t, enum bp_type_idx type, int cpu)
{
	int i, sum = 0;

	for (i = 0; i < t->nr_bps; i++) {
		struct bp_test_bp *bp = &t->bps[i];

		if (bp->task == BP_NO_TASK && bp->cpu == cpu &&
		    bp_test_type(bp->exec) == type)
			sum += bp->weight;
	}
	return sum;
}

static int model_task_on(struct bp_test *t, enum bp_type_idx type, int task,
			 int cpu)
{
	int i, sum = 0;

	for (i = 0; i < t->nr_bps; i++) {
		struct bp_test_bp *bp = &t->bps[i];

		if (bp->task == task && bp_test_type(bp->exec) == type &&
		    (bp->cpu == BP_ANY_CPU || bp->cpu == cpu))
			sum += bp->weight;
	}
	return sum;
}

/*
 * Would @cand fit next to every breakpoint held? On each CPU it can run
 * on, the CPU-bound slots plus the slots of the task running there (any
 * task, for a CPU-bound candidate) must fit in the registers.
 */
static bool model_fits(struct bp_test *t, const struct bp_test_bp *cand)
{
	enum bp_type_idx type = bp_test_type(cand->exec);
	int cpu, task, use;

	for_each_possible_cpu(cpu) {
		if (cand->cpu != BP_ANY_CPU && cand->cpu != cpu)
			continue;
		use = model_cpu_bound(t, type, cpu) + cand->weight;
		if (cand->task == BP_NO_TASK) {
			int most = 0;

			for (task = 0; task < BP_TEST_TASKS; task++)
				most = max(most, model_task_on(t, type, task, cpu));
			use += most;
		} else {
			use += model_task_on(t, type, cand->task, cpu);
		}
		if (use > bp_test_slots(cand->exec))
			return false;
	}
	return true;
}

/* === Holding breakpoints === */

/*
 * The suite's breakpoints never fire, but for test_wide_hits()'s. They
 * get this handler rather than perf's default one, which arm's backend
 * takes as a request to step over the hit: with it, arm refuses
 * CPU-bound, kernel and (before ARMv8 debug) write-only breakpoints,
 * and the allocator could not be tested there.
 */
static void bp_test_quiet(struct perf_event *bp, struct perf_sample_data *data,
			  struct pt_regs *regs)
{
}

static void bp_test_attr(struct perf_event_attr *attr, bool exec, int weight)
{
	hw_breakpoint_init(attr);
	attr->bp_addr = bp_test_addr(weight);
	attr->bp_len = sizeof(long);
	attr->bp_type = exec ? HW_BREAKPOINT_X : HW_BREAKPOINT_RW;
	attr->exclude_kernel = 1;
}

static struct perf_event *bp_test_create(struct bp_test *t,
					 const struct bp_test_bp *bp)
{
	struct perf_event_attr attr;

	bp_test_attr(&attr, bp->exec, bp->weight);
	return perf_event_create_kernel_counter(&attr, bp->cpu,
			bp->task == BP_NO_TASK ? NULL : t->tasks[bp->task],
			bp_test_quiet, NULL);
}

/*
 * Ask for a breakpoint on @task (or none) bound to @cpu (or any) and
 * check the answer against the model. Returns its index, or -ENOSPC.
 */
static int bp_test_try(struct bp_test *t, int task, int cpu, bool exec,
		       int weight)
{
	struct kunit *test = t->test;
	struct bp_test_bp *bp;
	bool fits;

	KUNIT_ASSERT_LT(test, t->nr_bps, BP_TEST_MAX_BPS);
	bp = &t->bps[t->nr_bps];
	*bp = (struct bp_test_bp){ .cpu = cpu, .task = task, .exec = exec,
				   .weight = weight };
	fits = model_fits(t, bp);
	bp->event = bp_test_create(t, bp);

	if (IS_ERR(bp->event)) {
		KUNIT_EXPECT_FALSE_MSG(test, fits,
				       "task %d cpu %d %s weight %d: %ld, fits in the model",
				       task, cpu, exec ? "exec" : "data", weight,
				       PTR_ERR(bp->event));
		KUNIT_EXPECT_EQ(test, PTR_ERR(bp->event), -ENOSPC);
		return -ENOSPC;
	}
	KUNIT_EXPECT_TRUE_MSG(test, fits,
			      "task %d cpu %d %s weight %d: granted, no room in the model",
			      task, cpu, exec ? "exec" : "data", weight);
	return t->nr_bps++;
}

/* Add a breakpoint made elsewhere to the model (@event NULL: not ours). */
static int bp_test_hold(struct bp_test *t, struct perf_event *event, int cpu,
			int task, bool exec, int weight)
{
	KUNIT_ASSERT_LT(t->test, t->nr_bps, BP_TEST_MAX_BPS);
	t->bps[t->nr_bps] = (struct bp_test_bp){ .event = event, .cpu = cpu,
						 .task = task, .exec = exec,
						 .weight = weight };
	return t->nr_bps++;
}

static void bp_test_del(struct bp_test *t, int idx)
{
	unregister_hw_breakpoint(t->bps[idx].event);
	t->bps[idx] = t->bps[--t->nr_bps];
}

/*
 * Change breakpoint @idx to the given type and weight with
 * modify_user_hw_breakpoint(), checking the answer against the model.
 */
static int bp_test_modify(struct bp_test *t, int idx, bool exec, int weight)
{
	struct bp_test_bp moved = t->bps[idx], old = t->bps[idx];
	struct perf_event *event = moved.event;
	struct perf_event_attr attr = event->attr;
	struct kunit *test = t->test;
	bool fits;
	int ret;

	/* The model, without @idx, asked for the changed breakpoint. */
	t->bps[idx] = t->bps[--t->nr_bps];
	moved.exec = exec;
	moved.weight = weight;
	fits = model_fits(t, &moved);

	attr.bp_type = exec ? HW_BREAKPOINT_X : HW_BREAKPOINT_RW;
	attr.bp_addr = bp_test_addr(weight);
	ret = modify_user_hw_breakpoint(event, &attr);
	if (ret) {
		KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
		KUNIT_EXPECT_FALSE_MSG(test, fits, "modify refused, fits");
		/* Refused: the breakpoint keeps its old type and slots. */
		KUNIT_EXPECT_EQ(test, event->attr.bp_addr, bp_test_addr(old.weight));
		moved = old;
	} else {
		KUNIT_EXPECT_TRUE_MSG(test, fits, "modify granted, no room");
	}
	t->bps[t->nr_bps++] = moved;
	return ret;
}

static void bp_test_del_all(struct bp_test *t)
{
	while (t->nr_bps)
		bp_test_del(t, t->nr_bps - 1);
}

static int bp_test_dummy_thread(void *arg)
{
	return 0;
}

static int bp_test_init(struct kunit *test)
{
	struct bp_test *t;
	int cpu, i, n;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs at least 2 online CPUs (QEMU -smp 2 or more)");
	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->test = test;
	/*
	 * Every online CPU, or the lowest and the highest ids half and half:
	 * a big machine's last cpumask words and histograms are tested too.
	 */
	n = num_online_cpus();
	i = 0;
	for_each_online_cpu(cpu) {
		if (n <= BP_TEST_MAX_CPUS || i < BP_TEST_MAX_CPUS / 2 ||
		    i >= n - BP_TEST_MAX_CPUS / 2)
			t->cpus[t->nr_cpus++] = cpu;
		i++;
	}

	t->tasks[0] = current;
	for (i = 1; i < BP_TEST_TASKS; i++) {
		t->tasks[i] = kthread_create(bp_test_dummy_thread, NULL,
					     "hw_bp_test/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t->tasks[i]));
		get_task_struct(t->tasks[i]);
	}

	kunit_activate_static_stub(test, hw_breakpoint_weight, bp_test_weight);
	test->priv = t;
	return 0;
}

/* Every test gives back every slot: checked once all is unregistered. */
static void bp_test_exit(struct kunit *test)
{
	struct bp_test *t = test->priv;
	int i;

	if (!t)
		return;
	bp_test_del_all(t);
	for (i = 1; i < BP_TEST_TASKS; i++) {
		kthread_stop(t->tasks[i]);
		put_task_struct(t->tasks[i]);
	}
	KUNIT_EXPECT_FALSE(test, hw_breakpoint_is_used());
}

/* === Filling slots: parameterised over target, type and weight === */

enum bp_fill_target {
	FILL_CPU,		/* bound to CPU 0, no task */
	FILL_TASK_ANY_CPU,	/* task 0, on every CPU */
	FILL_TASK_ONE_CPU,	/* task 0, bound to CPU 0 */
	FILL_MIXED,		/* alternately CPU 0 and task 0 on every CPU */
	FILL_NR
};

static const char * const bp_fill_names[] = {
	[FILL_CPU]		= "CPU-bound",
	[FILL_TASK_ANY_CPU]	= "task on every CPU",
	[FILL_TASK_ONE_CPU]	= "task on one CPU",
	[FILL_MIXED]		= "CPU-bound and task mixed",
};

struct bp_fill_param {
	enum bp_fill_target	target;
	bool			exec;
	int			weight;
};

static const void *bp_fill_gen(const void *prev, char *desc)
{
	static struct bp_fill_param p;

	if (!prev) {
		p = (struct bp_fill_param){ .target = FILL_CPU, .weight = 1 };
	} else if (p.weight == 1) {
		p.weight = 2;
	} else if (!p.exec) {
		p.exec = true;
		p.weight = 1;
	} else if (p.target + 1 < FILL_NR) {
		p = (struct bp_fill_param){ .target = p.target + 1, .weight = 1 };
	} else {
		return NULL;
	}
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %s, weight %d",
		 bp_fill_names[p.target], p.exec ? "instruction" : "data",
		 p.weight);
	return &p;
}

static int bp_fill_one(struct bp_test *t, const struct bp_fill_param *p,
		       int nth)
{
	int cpu0 = t->cpus[0];

	switch (p->target) {
	case FILL_CPU:
		return bp_test_try(t, BP_NO_TASK, cpu0, p->exec, p->weight);
	case FILL_TASK_ANY_CPU:
		return bp_test_try(t, 0, BP_ANY_CPU, p->exec, p->weight);
	case FILL_TASK_ONE_CPU:
		return bp_test_try(t, 0, cpu0, p->exec, p->weight);
	default:
		return nth % 2 ? bp_test_try(t, 0, BP_ANY_CPU, p->exec, p->weight) :
				 bp_test_try(t, BP_NO_TASK, cpu0, p->exec,
					     p->weight);
	}
}

/* Every shape of request once, each answer checked against the model. */
static void bp_probe_all(struct bp_test *t, bool exec)
{
	int task, c;

	for (c = 0; c < 2; c++)
		bp_test_try(t, BP_NO_TASK, t->cpus[c], exec, 1);
	for (task = 0; task < 2; task++) {
		bp_test_try(t, task, BP_ANY_CPU, exec, 1);
		for (c = 0; c < 2; c++)
			bp_test_try(t, task, t->cpus[c], exec, 1);
	}
}

/*
 * Fill the slots of one target, then: the next request fails with
 * -ENOSPC exactly at the limit; every other shape of request gets the
 * model's answer; unregistering one breakpoint makes room for exactly
 * one more; moving one to the other type of slot frees or refuses as the
 * model says.
 */
static void test_fill(struct kunit *test)
{
	const struct bp_fill_param *p = test->param_value;
	int slots = bp_test_slots(p->exec);
	struct bp_test *t = test->priv;
	int n = 0, idx, first = -1;

	if (p->weight > slots)
		kunit_skip(test, "weight %d > %d slots", p->weight, slots);

	while ((idx = bp_fill_one(t, p, n)) >= 0) {
		if (first < 0)
			first = idx;
		n++;
	}
	KUNIT_EXPECT_EQ_MSG(test, n, slots / p->weight,
			    "%d breakpoints of weight %d in %d slots", n,
			    p->weight, slots);
	KUNIT_ASSERT_GE(test, first, 0);

	/* Unregister: room for exactly one more of the same. */
	bp_test_del(t, first);
	idx = bp_fill_one(t, p, 0);
	KUNIT_ASSERT_GE(test, idx, 0);
	KUNIT_EXPECT_EQ(test, bp_fill_one(t, p, 0), -ENOSPC);

	/* Modify: widening it past the free slots is refused; it keeps its own. */
	KUNIT_EXPECT_EQ(test, bp_test_modify(t, idx, p->exec,
					     p->weight + slots % p->weight + 1),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, bp_fill_one(t, p, 0), -ENOSPC);

	bp_probe_all(t, p->exec);
	bp_probe_all(t, !p->exec);

	/* Modify: move one to the other type of slot, and back. */
	idx = t->nr_bps - 1;
	if (bp_test_modify(t, idx, !t->bps[idx].exec, t->bps[idx].weight) == 0)
		bp_test_modify(t, t->nr_bps - 1, !t->bps[t->nr_bps - 1].exec,
			       t->bps[t->nr_bps - 1].weight);
	bp_probe_all(t, p->exec);
}

/* === Task breakpoints moving between every CPU and one CPU === */

/*
 * A task whose breakpoints all follow it on every CPU is counted once for
 * all CPUs; its first breakpoint bound to one CPU moves it to per-CPU
 * counting, and removing that breakpoint moves it back. The CPU-bound
 * room on each CPU must follow every move.
 */
static void test_task_transitions(struct kunit *test)
{
	int slots = bp_test_slots(false);
	struct bp_test *t = test->priv;
	int cpu0 = t->cpus[0], cpu1 = t->cpus[1];
	int i, bound, other;

	if (slots < 2)
		kunit_skip(test, "needs 2 data slots, has %d", slots);

	for (i = 0; i < slots - 1; i++)
		KUNIT_ASSERT_GE(test, bp_test_try(t, 0, BP_ANY_CPU, false, 1), 0);

	/* Every CPU has one slot left for CPU-bound breakpoints. */
	bound = bp_test_try(t, 0, cpu0, false, 1);
	KUNIT_ASSERT_GE(test, bound, 0);
	/* Task 0 now fills CPU 0, and leaves exactly one slot on CPU 1. */
	KUNIT_EXPECT_EQ(test, bp_test_try(t, BP_NO_TASK, cpu0, false, 1), -ENOSPC);
	KUNIT_EXPECT_GE(test, bp_test_try(t, BP_NO_TASK, cpu1, false, 1), 0);
	KUNIT_EXPECT_EQ(test, bp_test_try(t, BP_NO_TASK, cpu1, false, 1), -ENOSPC);
	KUNIT_EXPECT_EQ(test, bp_test_try(t, 0, cpu1, false, 1), -ENOSPC);
	/* Another task only sees the CPU-bound slot on CPU 1. */
	KUNIT_EXPECT_EQ(test, bp_test_try(t, 1, cpu1, false, slots), -ENOSPC);
	other = bp_test_try(t, 1, cpu0, false, slots);
	KUNIT_EXPECT_GE(test, other, 0);
	/* ... and fills CPU 0 for CPU-bound breakpoints while it holds it. */
	KUNIT_EXPECT_EQ(test, bp_test_try(t, BP_NO_TASK, cpu0, false, 1), -ENOSPC);
	if (other >= 0)
		bp_test_del(t, other);

	/* Back to every-CPU counting: CPU 0 has its slot again. */
	bp_test_del(t, bound);
	KUNIT_EXPECT_GE(test, bp_test_try(t, BP_NO_TASK, cpu0, false, 1), 0);
	bp_probe_all(t, false);
}

/* === Weights === */

/* Breakpoints wider than one register, mixed with narrow ones. */
static void test_weights(struct kunit *test)
{
	int slots = bp_test_slots(false);
	struct bp_test *t = test->priv;
	int cpu0 = t->cpus[0];

	if (slots < 3)
		kunit_skip(test, "needs 3 data slots, has %d", slots);

	KUNIT_ASSERT_GE(test, bp_test_try(t, 0, BP_ANY_CPU, false, slots - 1), 0);
	KUNIT_EXPECT_EQ(test, bp_test_try(t, 0, BP_ANY_CPU, false, 2), -ENOSPC);
	KUNIT_EXPECT_GE(test, bp_test_try(t, BP_NO_TASK, cpu0, false, 1), 0);
	KUNIT_EXPECT_EQ(test, bp_test_try(t, 0, cpu0, false, 1), -ENOSPC);
	/* A breakpoint wider than the registers never fits. */
	KUNIT_EXPECT_EQ(test, bp_test_try(t, 2, BP_ANY_CPU, false, slots + 1),
			-ENOSPC);
	bp_probe_all(t, false);
}

/* === register_wide_hw_breakpoint() === */

/* All CPUs or none: a failed wide breakpoint leaves no slot behind. */
static void test_wide(struct kunit *test)
{
	struct perf_event *__percpu *wide, *__percpu *again;
	int slots = bp_test_slots(false);
	struct bp_test *t = test->priv;
	struct perf_event_attr attr;
	int cpu, n;

	bp_test_attr(&attr, false, 1);
	wide = register_wide_hw_breakpoint(&attr, bp_test_quiet, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)wide));
	/* The model: one CPU-bound slot on every online CPU, not ours to free. */
	for_each_online_cpu(cpu)
		bp_test_hold(t, NULL, cpu, BP_NO_TASK, false, 1);

	/* Fill CPU 1 beside it. */
	for (n = 0; bp_test_try(t, BP_NO_TASK, t->cpus[1], false, 1) >= 0; n++)
		;
	KUNIT_EXPECT_EQ(test, n, slots - 1);

	/* CPU 1 is full: a second wide breakpoint must fail on every CPU. */
	again = register_wide_hw_breakpoint(&attr, bp_test_quiet, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR((void __force *)again), -ENOSPC);
	if (!IS_ERR((void __force *)again))
		unregister_wide_hw_breakpoint(again);

	/* ... leaving CPU 0 exactly as the first one left it. */
	for (n = 0; bp_test_try(t, BP_NO_TASK, t->cpus[0], false, 1) >= 0; n++)
		;
	KUNIT_EXPECT_EQ(test, n, slots - 1);

	bp_test_del_all(t);
	unregister_wide_hw_breakpoint(wide);
}

/* === Hits on every CPU === */

static unsigned long bp_test_watched;

static void bp_test_write_watched(void *unused)
{
	WRITE_ONCE(bp_test_watched, bp_test_watched + 1);
}

/*
 * A wide kernel watchpoint counts one hit on each CPU that writes the
 * variable, and none once it is unregistered: the arch backend's install,
 * #DB delivery and uninstall, on every CPU. The events keep perf's default
 * overflow handler; their counts are read back per CPU.
 */
static void test_wide_hits(struct kunit *test)
{
	struct perf_event *__percpu *wide;
	struct perf_event_attr attr;
	u64 enabled, running;
	int cpu;

	/*
	 * arm's backend steps only over hits of task breakpoints on user
	 * addresses; a kernel watchpoint's own handler must step, and perf's
	 * default one cannot be used there (see bp_test_quiet()).
	 */
	if (IS_ENABLED(CONFIG_ARM))
		kunit_skip(test, "arm cannot step over a kernel watchpoint's hit");

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&bp_test_watched;
	attr.bp_len = sizeof(bp_test_watched);
	attr.bp_type = HW_BREAKPOINT_W;

	wide = register_wide_hw_breakpoint(&attr, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)wide));

	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, bp_test_write_watched, NULL, 1);
	for_each_online_cpu(cpu) {
		struct perf_event *bp = *per_cpu_ptr(wide, cpu);

		KUNIT_EXPECT_EQ_MSG(test, perf_event_read_value(bp, &enabled,
								&running),
				    1, "hits on CPU %d", cpu);
	}
	unregister_wide_hw_breakpoint(wide);
	/* Unregistered: the registers no longer watch it. */
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, bp_test_write_watched, NULL, 1);
}

/* === Moving a kernel watchpoint from atomic context === */

/* The two variables a wide watchpoint moves between: A and B. */
static unsigned long bp_test_move_vars[2];

struct bp_test_move {
	struct perf_event *__percpu	*wide;
	unsigned long			to;
	int				ret;
	struct hrtimer			timer;
	struct completion		done;
};

/* The kprobe's target: where the kprobe case moves the watchpoint from. */
static struct bp_test_move *bp_test_moving;

static noinline void bp_test_move_hook(void)
{
	/* Keeps the call, and a probe-able body. */
	barrier();
}

static enum hrtimer_restart bp_test_move_timer(struct hrtimer *timer)
{
	struct bp_test_move *m = container_of(timer, struct bp_test_move, timer);

	m->ret = modify_wide_hw_breakpoint_local(m->wide, m->to);
	complete(&m->done);
	return HRTIMER_NORESTART;
}

static int bp_test_move_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct bp_test_move *m = READ_ONCE(bp_test_moving);

	if (m)
		m->ret = modify_wide_hw_breakpoint_local(m->wide, m->to);
	return 0;
}

/*
 * On one CPU, in a kworker bound there (smp_call_on_cpu()): move this
 * CPU's watchpoint from a hard-interrupt hrtimer pinned here, or from
 * the kprobe on bp_test_move_hook(), then write the old variable twice
 * and the new one once.
 */
static int bp_test_move_here(struct bp_test_move *m, bool from_kprobe)
{
	unsigned long *to = (unsigned long *)m->to;
	unsigned long *from = to == &bp_test_move_vars[0] ?
			      &bp_test_move_vars[1] : &bp_test_move_vars[0];

	m->ret = -EINPROGRESS;
	if (from_kprobe) {
		WRITE_ONCE(bp_test_moving, m);
		bp_test_move_hook();
		WRITE_ONCE(bp_test_moving, NULL);
	} else {
		reinit_completion(&m->done);
		hrtimer_start(&m->timer, ns_to_ktime(NSEC_PER_USEC),
			      HRTIMER_MODE_REL_PINNED_HARD);
		wait_for_completion(&m->done);
	}
	WRITE_ONCE(*from, *from + 1);
	WRITE_ONCE(*from, *from + 1);
	WRITE_ONCE(*to, *to + 1);
	return m->ret;
}

static int bp_test_move_by_timer(void *arg)
{
	return bp_test_move_here(arg, false);
}

static int bp_test_move_by_kprobe(void *arg)
{
	return bp_test_move_here(arg, true);
}

/*
 * A wide write watchpoint on A is moved to B on every CPU from an
 * hrtimer, then back to A from a kprobe handler: after each move, each
 * CPU counts its one write of the new variable and neither write of the
 * old one. Needs an arch that lets the core choose its registers; the
 * others get -EOPNOTSUPP, which is checked instead.
 */
static void test_move_wide(struct kunit *test)
{
	static struct kprobe kp = {
		.pre_handler	= bp_test_move_pre,
	};
	struct perf_event_attr attr;
	struct bp_test_move *m;
	u64 enabled, running;
	int cpu, round, ret;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	hrtimer_init(&m->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	m->timer.function = bp_test_move_timer;
	init_completion(&m->done);

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&bp_test_move_vars[0];
	attr.bp_len = sizeof(bp_test_move_vars[0]);
	attr.bp_type = HW_BREAKPOINT_W;
	m->wide = register_wide_hw_breakpoint(&attr, bp_test_quiet, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)m->wide));

	if (!IS_ENABLED(CONFIG_X86) && !IS_ENABLED(CONFIG_ARM64)) {
		/* arm and the others choose their own registers. */
		unsigned long b = (unsigned long)&bp_test_move_vars[1];

		cpu = get_cpu();
		ret = modify_wide_hw_breakpoint_local(m->wide, b);
		put_cpu();
		KUNIT_EXPECT_EQ(test, ret, -EOPNOTSUPP);
		unregister_wide_hw_breakpoint(m->wide);
		return;
	}

	if (IS_ENABLED(CONFIG_KPROBES)) {
		kp.addr = (kprobe_opcode_t *)bp_test_move_hook;
		KUNIT_ASSERT_EQ(test, register_kprobe(&kp), 0);
	}
	for (round = 0; round < 2; round++) {
		bool kprobe = round == 1 && IS_ENABLED(CONFIG_KPROBES);

		m->to = (unsigned long)&bp_test_move_vars[round ? 0 : 1];
		for_each_online_cpu(cpu) {
			struct perf_event *bp = *per_cpu_ptr(m->wide, cpu);

			ret = smp_call_on_cpu(cpu, kprobe ? bp_test_move_by_kprobe :
					      bp_test_move_by_timer, m, false);
			KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s move on CPU %d",
					    kprobe ? "kprobe" : "hrtimer", cpu);
			KUNIT_EXPECT_EQ_MSG(test, hw_breakpoint_addr(bp), m->to,
					    "CPU %d", cpu);
			KUNIT_EXPECT_EQ_MSG(test,
					    perf_event_read_value(bp, &enabled,
								  &running),
					    round + 1, "hits on CPU %d after %s move",
					    cpu, kprobe ? "kprobe" : "hrtimer");
		}
	}
	if (IS_ENABLED(CONFIG_KPROBES))
		unregister_kprobe(&kp);
	unregister_wide_hw_breakpoint(m->wide);
}

/*
 * What modify_local_hw_breakpoint_addr() refuses, each leaving the
 * watchpoint where it was: another CPU's event, a task's, a breakpoint
 * on code, one user space owns (faked: its owner field says so for the
 * call), an address on the other side of the user/kernel boundary, and
 * on x86 a misaligned one; on an arch that chooses its own registers,
 * everything (-EOPNOTSUPP).
 */
static void test_move_refused(struct kunit *test)
{
	unsigned long a = (unsigned long)&bp_test_move_vars[0];
	struct bp_test *t = test->priv;
	struct perf_event *here, *other, *task, *code;
	struct perf_event_attr attr;
	struct task_struct *owner;
	int cpu, ret, other_cpu;
	bool chooses = IS_ENABLED(CONFIG_X86) || IS_ENABLED(CONFIG_ARM64);
	int refused = chooses ? -EINVAL : -EOPNOTSUPP;
	unsigned long user = BP_TEST_ADDR;

	hw_breakpoint_init(&attr);
	attr.bp_addr = a;
	attr.bp_len = sizeof(bp_test_move_vars[0]);
	attr.bp_type = HW_BREAKPOINT_W;

	/* Bound to one CPU throughout: @here is its event. */
	migrate_disable();
	cpu = smp_processor_id();
	other_cpu = t->cpus[0] == cpu ? t->cpus[1] : t->cpus[0];
	here = perf_event_create_kernel_counter(&attr, cpu, NULL,
						bp_test_quiet, NULL);
	other = perf_event_create_kernel_counter(&attr, other_cpu, NULL,
						 bp_test_quiet, NULL);
	bp_test_attr(&attr, false, 1);
	task = perf_event_create_kernel_counter(&attr, -1, current,
						bp_test_quiet, NULL);
	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)bp_test_move_hook;
	attr.bp_len = sizeof(long);
	attr.bp_type = HW_BREAKPOINT_X;
	code = perf_event_create_kernel_counter(&attr, cpu, NULL,
						bp_test_quiet, NULL);
	/*
	 * x86 places kernel instruction breakpoints only where a kprobe
	 * could go, so without kprobes nowhere (as 6.12 does).
	 */
	if (IS_ENABLED(CONFIG_X86) && !IS_ENABLED(CONFIG_KPROBES)) {
		KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(code), -EINVAL);
		if (!IS_ERR(code))
			unregister_hw_breakpoint(code);
		code = NULL;
	}
	if (IS_ERR(here) || IS_ERR(other) || IS_ERR(task) || IS_ERR(code)) {
		KUNIT_FAIL(test, "creation: %ld %ld %ld %ld", PTR_ERR(here),
			   PTR_ERR(other), PTR_ERR(task), PTR_ERR(code));
		goto out;
	}

	KUNIT_EXPECT_EQ(test, modify_local_hw_breakpoint_addr(other, a + 8),
			refused);
	KUNIT_EXPECT_EQ(test, modify_local_hw_breakpoint_addr(task, user + 64),
			refused);
	if (code)
		KUNIT_EXPECT_EQ(test, modify_local_hw_breakpoint_addr(code, a),
				refused);
	KUNIT_EXPECT_EQ(test, modify_local_hw_breakpoint_addr(here, user),
			refused);
	if (IS_ENABLED(CONFIG_X86))
		KUNIT_EXPECT_EQ(test,
				modify_local_hw_breakpoint_addr(here, a + 1),
				-EINVAL);
	owner = here->owner;
	here->owner = current;
	ret = modify_local_hw_breakpoint_addr(here, a + 8);
	here->owner = owner;
	KUNIT_EXPECT_EQ(test, ret, refused);
	KUNIT_EXPECT_EQ(test, hw_breakpoint_addr(here), a);
	/* And the one it accepts, from task context. */
	KUNIT_EXPECT_EQ(test, modify_local_hw_breakpoint_addr(here, a + 8),
			chooses ? 0 : -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, hw_breakpoint_addr(other), a);
	KUNIT_EXPECT_EQ(test, hw_breakpoint_addr(here), chooses ? a + 8 : a);
out:
	migrate_enable();
	if (!IS_ERR_OR_NULL(code))
		unregister_hw_breakpoint(code);
	if (!IS_ERR(task))
		unregister_hw_breakpoint(task);
	if (!IS_ERR(other))
		unregister_hw_breakpoint(other);
	if (!IS_ERR(here))
		unregister_hw_breakpoint(here);
}

/* === Wide breakpoints that follow CPU hotplug === */

static unsigned long bp_test_hotplug_var;

static void bp_test_write_hotplug_var(void *unused)
{
	WRITE_ONCE(bp_test_hotplug_var, bp_test_hotplug_var + 1);
}

/*
 * register_wide_hw_breakpoint_hotplug() with a CPU offline: that CPU has
 * no event; brought online it gets one, which counts its write; taken
 * down again it loses it, and back up it has a new one that counts
 * again. The suite's exit checks that no slot is left held.
 */
static void test_wide_hotplug(struct kunit *test)
{
	struct perf_event *__percpu *wide;
	struct perf_event_attr attr;
	struct perf_event *bp;
	u64 enabled, running;
	int cpu, round;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		kunit_skip(test, "needs CONFIG_HOTPLUG_CPU");
	cpu = cpumask_last(cpu_online_mask);
	KUNIT_ASSERT_NE(test, cpu, 0);
	KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&bp_test_hotplug_var;
	attr.bp_len = sizeof(bp_test_hotplug_var);
	attr.bp_type = HW_BREAKPOINT_W;
	wide = register_wide_hw_breakpoint_hotplug(&attr, bp_test_quiet, NULL);
	if (IS_ERR((void __force *)wide)) {
		KUNIT_FAIL(test, "registration: %ld", PTR_ERR((void __force *)wide));
		add_cpu(cpu);
		return;
	}
	KUNIT_EXPECT_NULL(test, *per_cpu_ptr(wide, cpu));

	for (round = 0; round < 2; round++) {
		KUNIT_ASSERT_EQ(test, add_cpu(cpu), 0);
		bp = *per_cpu_ptr(wide, cpu);
		KUNIT_EXPECT_NOT_NULL_MSG(test, bp, "CPU %d back online, round %d",
					  cpu, round);
		/* arm cannot step over a kernel watchpoint's hit. */
		if (bp && !IS_ENABLED(CONFIG_ARM)) {
			smp_call_function_single(cpu, bp_test_write_hotplug_var,
						 NULL, 1);
			KUNIT_EXPECT_EQ_MSG(test,
					    perf_event_read_value(bp, &enabled,
								  &running),
					    1, "hits on CPU %d, round %d", cpu,
					    round);
		}
		if (round == 1)
			break;
		KUNIT_ASSERT_EQ(test, remove_cpu(cpu), 0);
		KUNIT_EXPECT_NULL(test, *per_cpu_ptr(wide, cpu));
	}
	unregister_wide_hw_breakpoint_hotplug(wide);
}

/* === The kernel debugger's lock-free variants === */

static void test_dbg_slots(struct kunit *test)
{
	int slots = bp_test_slots(false);
	struct bp_test *t = test->priv;
	struct perf_event_attr attr;
	struct perf_event *bp;
	int idx, n;

	/*
	 * As kgdb does: a disabled CPU-bound breakpoint whose slot is given
	 * back, then taken and released again with the lock-free variants.
	 */
	bp_test_attr(&attr, false, 1);
	attr.disabled = 1;
	bp = perf_event_create_kernel_counter(&attr, t->cpus[0], NULL,
					      bp_test_quiet, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(bp));
	idx = bp_test_hold(t, bp, t->cpus[0], BP_NO_TASK, false, 1);

	release_bp_slot(bp);
	t->bps[idx].weight = 0;
	for (n = 0; bp_test_try(t, BP_NO_TASK, t->cpus[0], false, 1) >= 0; n++)
		;
	KUNIT_EXPECT_EQ(test, n, slots);
	KUNIT_EXPECT_EQ(test, dbg_reserve_bp_slot(bp), -ENOSPC);

	bp_test_del(t, t->nr_bps - 1);
	KUNIT_EXPECT_EQ(test, dbg_reserve_bp_slot(bp), 0);
	t->bps[idx].weight = 1;
	KUNIT_EXPECT_EQ(test, bp_test_try(t, BP_NO_TASK, t->cpus[0], false, 1),
			-ENOSPC);

	KUNIT_EXPECT_EQ(test, dbg_release_bp_slot(bp), 0);
	t->bps[idx].weight = 0;
	KUNIT_EXPECT_GE(test, bp_test_try(t, BP_NO_TASK, t->cpus[0], false, 1), 0);

	/* Counted again before unregistering, which releases it. */
	bp_test_del(t, t->nr_bps - 1);
	KUNIT_EXPECT_EQ(test, dbg_reserve_bp_slot(bp), 0);
	t->bps[idx].weight = 1;
}

/*
 * Reserved from inside a reservation, the lock-free variants must refuse
 * (-EBUSY) and change nothing, whichever kind is being reserved (task:
 * its mutex and the tables read-locked; CPU-bound: written) and whichever
 * kind asks (the same task, or a CPU). Each probe is a disabled event
 * whose slot was given back, as kgdb holds them.
 */
static void test_dbg_busy(struct kunit *test)
{
	struct bp_test *t = test->priv;
	struct perf_event_attr attr;
	struct perf_event *probes[2];
	int p, reserving, idx[2], got;

	bp_test_attr(&attr, false, 1);
	attr.disabled = 1;
	probes[0] = perf_event_create_kernel_counter(&attr, t->cpus[1], NULL,
						     bp_test_quiet, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(probes[0]));
	idx[0] = bp_test_hold(t, probes[0], t->cpus[1], BP_NO_TASK, false, 1);
	probes[1] = perf_event_create_kernel_counter(&attr, -1, t->tasks[0],
						     bp_test_quiet, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(probes[1]));
	idx[1] = bp_test_hold(t, probes[1], BP_ANY_CPU, 0, false, 1);
	for (p = 0; p < 2; p++) {
		release_bp_slot(probes[p]);
		t->bps[idx[p]].weight = 0;
	}

	for (reserving = 0; reserving < 2; reserving++) {
		for (p = 0; p < 2; p++) {
			bp_test_probe.reserve = 1;
			bp_test_probe.release = 1;
			bp_test_probe.event = probes[p];
			/* reserving 0: CPU-bound on CPU 0; 1: task 0 */
			got = bp_test_try(t, reserving ? 0 : BP_NO_TASK,
					  reserving ? BP_ANY_CPU : t->cpus[0],
					  false, 1);
			KUNIT_EXPECT_GE(test, got, 0);
			KUNIT_EXPECT_NULL(test, bp_test_probe.event);
			KUNIT_EXPECT_EQ_MSG(test, bp_test_probe.reserve, -EBUSY,
					    "dbg_reserve_bp_slot(%s) while reserving %s",
					    p ? "task 0" : "CPU 1",
					    reserving ? "for task 0" : "on CPU 0");
			KUNIT_EXPECT_EQ_MSG(test, bp_test_probe.release, -EBUSY,
					    "dbg_release_bp_slot(%s) while reserving %s",
					    p ? "task 0" : "CPU 1",
					    reserving ? "for task 0" : "on CPU 0");
			bp_test_probe.event = NULL;
			if (got >= 0)
				bp_test_del(t, got);
			/* Only the probes are left, and they hold nothing. */
			KUNIT_EXPECT_FALSE(test, hw_breakpoint_is_used());
		}
	}

	/* Unlocked, they take their slots back before unregistering. */
	for (p = 0; p < 2; p++) {
		KUNIT_EXPECT_EQ(test, dbg_reserve_bp_slot(probes[p]), 0);
		t->bps[idx[p]].weight = 1;
	}
	bp_probe_all(t, false);
}

/* === Bad requests hold nothing === */

static void test_bad_requests(struct kunit *test)
{
	static const u32 bad_types[] = {
		HW_BREAKPOINT_EMPTY,
		HW_BREAKPOINT_X | HW_BREAKPOINT_W,
		HW_BREAKPOINT_INVALID,
		HW_BREAKPOINT_INVALID + 1,
	};
	struct bp_test *t = test->priv;
	struct perf_event_attr attr;
	struct perf_event *bp;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad_types); i++) {
		bp_test_attr(&attr, false, 1);
		attr.bp_type = bad_types[i];
		bp = perf_event_create_kernel_counter(&attr, t->cpus[0], NULL,
						      bp_test_quiet, NULL);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(bp), -EINVAL,
				    "bp_type %#x", bad_types[i]);
		if (!IS_ERR(bp))
			unregister_hw_breakpoint(bp);
		KUNIT_EXPECT_FALSE(test, hw_breakpoint_is_used());
	}
}

/* === Modification without sleeping, and what it must refuse === */

/*
 * ptrace's overflow handler on powerpc, sh and loongarch disables the
 * current task's breakpoint from the debug exception, interrupts off:
 * with the slot type and weight unchanged, modify_user_hw_breakpoint()
 * takes no lock there (CONFIG_DEBUG_ATOMIC_SLEEP reports one that is).
 */
static void test_modify_irqs_off(struct kunit *test)
{
	struct perf_event_attr attr;
	struct perf_event *bp;
	unsigned long flags;
	int ret;

	bp_test_attr(&attr, false, 1);
	bp = register_user_hw_breakpoint(&attr, bp_test_quiet, NULL, current);
	KUNIT_ASSERT_FALSE(test, IS_ERR(bp));

	attr.bp_addr += sizeof(long);	/* the same weight */
	attr.bp_type = HW_BREAKPOINT_W;	/* and the same slot type */
	attr.disabled = 1;
	local_irq_save(flags);
	ret = modify_user_hw_breakpoint(bp, &attr);
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, bp->attr.bp_addr, attr.bp_addr);
	KUNIT_EXPECT_EQ(test, bp->attr.bp_type, HW_BREAKPOINT_W);
	KUNIT_EXPECT_TRUE(test, bp->attr.disabled);
	unregister_hw_breakpoint(bp);
}

/*
 * With check set (PERF_EVENT_IOC_MODIFY_ATTRIBUTES), a field other than
 * the address, length, type and disabled bit must not differ: -EINVAL,
 * and the breakpoint keeps its attributes.
 */
static void test_modify_check(struct kunit *test)
{
	struct perf_event_attr attr, changed;
	struct perf_event *bp;

	bp_test_attr(&attr, false, 1);
	attr.disabled = 1;
	bp = register_user_hw_breakpoint(&attr, bp_test_quiet, NULL, current);
	KUNIT_ASSERT_FALSE(test, IS_ERR(bp));

	changed = bp->attr;
	changed.bp_addr += sizeof(long);
	changed.sample_period = 7;
	KUNIT_EXPECT_EQ(test, modify_user_hw_breakpoint_check(bp, &changed, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, bp->attr.bp_addr, attr.bp_addr);

	changed.sample_period = bp->attr.sample_period;
	KUNIT_EXPECT_EQ(test, modify_user_hw_breakpoint_check(bp, &changed, true), 0);
	KUNIT_EXPECT_EQ(test, bp->attr.bp_addr, changed.bp_addr);
	unregister_hw_breakpoint(bp);
}

/*
 * A kernel address: -EINVAL when the kernel is excluded, -EPERM without
 * CAP_SYS_ADMIN, and no slot held either way.
 */
static void test_kernel_addresses(struct kunit *test)
{
	static unsigned long kernel_var;
	struct bp_test *t = test->priv;
	const struct cred *saved;
	struct perf_event_attr attr;
	struct perf_event *bp;
	struct cred *cred;

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&kernel_var;
	attr.bp_len = sizeof(kernel_var);
	attr.bp_type = HW_BREAKPOINT_W;
	attr.exclude_kernel = 1;
	bp = perf_event_create_kernel_counter(&attr, t->cpus[0], NULL,
					      bp_test_quiet, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bp), -EINVAL);
	if (!IS_ERR(bp))
		unregister_hw_breakpoint(bp);

	attr.exclude_kernel = 0;
	cred = prepare_creds();
	KUNIT_ASSERT_NOT_NULL(test, cred);
	cap_lower(cred->cap_effective, CAP_SYS_ADMIN);
	saved = override_creds(cred);
	bp = perf_event_create_kernel_counter(&attr, t->cpus[0], NULL,
					      bp_test_quiet, NULL);
	revert_creds(saved);
	put_cred(cred);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bp), -EPERM);
	if (!IS_ERR(bp))
		unregister_hw_breakpoint(bp);
	KUNIT_EXPECT_FALSE(test, hw_breakpoint_is_used());
}

/* === Concurrency: tasks in parallel, CPU-bound ones coming and going === */

#define BP_RACE_ROUNDS	200

struct bp_race {
	struct kunit		*test;
	struct task_struct	*target;	/* NULL: the CPU-bound churner */
	int			cpu;
	int			slots;
	atomic_t		short_rounds;	/* a task got fewer than it must */
	atomic_t		bad_errors;	/* neither success nor -ENOSPC */
	long			bad_error;	/* the last of them */
	struct completion	done;
};

/*
 * One task's breakpoints taken and given back in rounds, or, for the
 * churner, one CPU-bound breakpoint at a time on the first CPU. As the
 * churner never holds more than one slot, each task must get at least
 * slots - 1 of its own every round, whatever the other tasks do: only
 * one task runs on a CPU at a time.
 */
static int bp_race_thread(void *arg)
{
	struct perf_event *bps[BP_TEST_MAX_WEIGHT];
	struct bp_race *r = arg;
	struct perf_event_attr attr;
	int round, n, got;

	bp_test_attr(&attr, false, 1);
	for (round = 0; round < BP_RACE_ROUNDS; round++) {
		/* Tasks ask for one more than there are; the churner for one. */
		int want = r->target ? min(r->slots + 1, (int)ARRAY_SIZE(bps)) : 1;

		int cpu = r->target ? BP_ANY_CPU : r->cpu;

		for (n = 0, got = 0; n < want; n++) {
			struct perf_event *bp;

			bp = perf_event_create_kernel_counter(&attr, cpu, r->target,
							      bp_test_quiet, NULL);
			if (IS_ERR(bp)) {
				if (PTR_ERR(bp) != -ENOSPC) {
					atomic_inc(&r->bad_errors);
					r->bad_error = PTR_ERR(bp);
				}
				continue;
			}
			bps[got++] = bp;
		}
		if (r->target && got < r->slots - 1)
			atomic_inc(&r->short_rounds);
		while (got--)
			unregister_hw_breakpoint(bps[got]);
		cond_resched();
	}
	complete(&r->done);
	return 0;
}

static void test_concurrent(struct kunit *test)
{
	int slots = bp_test_slots(false), i;
	struct bp_test *t = test->priv;
	struct bp_race *races;
	struct task_struct *k;

	races = kunit_kcalloc(test, BP_TEST_TASKS + 1, sizeof(*races), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, races);
	for (i = 0; i <= BP_TEST_TASKS; i++) {
		struct bp_race *r = &races[i];

		r->test = test;
		r->target = i < BP_TEST_TASKS ? t->tasks[i] : NULL;
		r->cpu = t->cpus[0];
		r->slots = slots;
		init_completion(&r->done);
		k = kthread_run(bp_race_thread, r, "hw_bp_race/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	}
	for (i = 0; i <= BP_TEST_TASKS; i++) {
		wait_for_completion(&races[i].done);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&races[i].bad_errors), 0,
				    "thread %d: errno %ld, not -ENOSPC", i,
				    races[i].bad_error);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&races[i].short_rounds), 0,
				    "thread %d: rounds with fewer than %d slots",
				    i, slots - 1);
	}
	KUNIT_EXPECT_FALSE(test, hw_breakpoint_is_used());
}

/* === Randomised: thousands of steps against the model === */

#define BP_MODEL_STEPS	5000

static void test_model_random(struct kunit *test)
{
	struct bp_test *t = test->priv;
	struct rnd_state rnd;
	unsigned int s = seed ? seed : get_random_u32();
	int step, max_weight;

	kunit_info(test, "seed %u (replay: hw_breakpoint_test.seed=%u)", s, s);
	prandom_seed_state(&rnd, s);
	max_weight = min(bp_test_slots(false), bp_test_slots(true));
	max_weight = clamp(max_weight, 1, 3);

	for (step = 0; step < BP_MODEL_STEPS; step++) {
		u32 op = prandom_u32_state(&rnd) % 100;
		u32 r = prandom_u32_state(&rnd);
		bool exec = r & 1;
		int weight = 1 + (r >> 1) % max_weight;
		int cpu = t->cpus[(r >> 8) % t->nr_cpus];
		int task = (r >> 16) % (BP_TEST_TASKS + 1);

		if (op < 55 || !t->nr_bps) {
			if (t->nr_bps == BP_TEST_MAX_BPS)
				continue;
			if (task == BP_TEST_TASKS)
				bp_test_try(t, BP_NO_TASK, cpu, exec, weight);
			else
				bp_test_try(t, task, (r >> 24) & 1 ? cpu :
					    BP_ANY_CPU, exec, weight);
		} else if (op < 85) {
			bp_test_del(t, r % t->nr_bps);
		} else {
			bp_test_modify(t, r % t->nr_bps, exec, weight);
		}
		if (test->status == KUNIT_FAILURE) {
			kunit_err(test, "first mismatch at step %d (seed %u)",
				  step, s);
			break;
		}
	}
}

/* === Flexible breakpoints === */

#define BP_TEST_FLEX_MAX	40

/* A non-pinned watchpoint of weight 1, kept in @held for the release. */
static int bp_test_flex(struct bp_test *t, struct perf_event **held, int *n,
			int task, int cpu, bool pinned)
{
	struct perf_event_attr attr;
	struct perf_event *event;

	bp_test_attr(&attr, false, 1);
	attr.pinned = pinned;
	event = perf_event_create_kernel_counter(&attr, cpu,
						 task == BP_NO_TASK ? NULL :
						 t->tasks[task], bp_test_quiet, NULL);
	if (IS_ERR(event))
		return PTR_ERR(event);
	held[(*n)++] = event;
	return 0;
}

static void bp_test_flex_release(struct perf_event **held, int *n)
{
	while (*n)
		unregister_hw_breakpoint(held[--*n]);
}

/*
 * An owner's flexible watchpoints share one register: the first one needs
 * it free, the others fit for nothing; pinned ones leave it to them. For
 * a task and for a CPU, and with flexible mode off they count as pinned
 * again. The switch refuses to turn off while a flexible one exists.
 */
static void test_flexible(struct kunit *test)
{
	struct perf_event *flex[BP_TEST_FLEX_MAX], *pin[BP_TEST_FLEX_MAX];
	int slots = bp_test_slots(false), i, nf = 0, np = 0;
	struct bp_test *t = test->priv;
	int cpu = t->cpus[1];

	if (slots < 2 || 2 * slots + 2 > BP_TEST_FLEX_MAX)
		kunit_skip(test, "needs 2 to %d data slots, has %d",
			   BP_TEST_FLEX_MAX / 2 - 1, slots);

	/* A task: one flexible, then slots - 1 pinned fit, not one more. */
	KUNIT_ASSERT_EQ(test, bp_test_flex(t, flex, &nf, 1, BP_ANY_CPU, false), 0);
	for (i = 0; i < slots - 1; i++)
		KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, 1, BP_ANY_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, 1, BP_ANY_CPU, true), -ENOSPC);
	/* ... nor bound to one CPU. */
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, 1, cpu, true), -ENOSPC);
	/* More flexible ones share the register, on every CPU or on one. */
	for (i = 0; i < 2 * slots; i++)
		KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1,
						   i & 1 ? cpu : BP_ANY_CPU,
						   false), 0);
	/* Another task is not affected. */
	for (i = 0; i < slots; i++)
		KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, 2, BP_ANY_CPU, true), 0);

	KUNIT_EXPECT_EQ(test, hw_breakpoint_set_flexible(false), -EBUSY);
	bp_test_flex_release(flex, &nf);
	/* The share is gone: the last register is a pinned one's again. */
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, 1, BP_ANY_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1, BP_ANY_CPU, false), -ENOSPC);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1, cpu, false), -ENOSPC);
	bp_test_flex_release(pin, &np);

	/*
	 * A CPU: its flexible share and slots - 1 pinned fill it for every
	 * task that can run there.
	 */
	KUNIT_ASSERT_EQ(test, bp_test_flex(t, flex, &nf, BP_NO_TASK, cpu, false), 0);
	for (i = 0; i < slots - 1; i++)
		KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, BP_NO_TASK, cpu, true), 0);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, BP_NO_TASK, cpu, true), -ENOSPC);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, pin, &np, 1, BP_ANY_CPU, true), -ENOSPC);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, BP_NO_TASK, cpu, false), 0);
	/* A task's first flexible one needs a register of its own there. */
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1, BP_ANY_CPU, false), -ENOSPC);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1, t->cpus[0], false), 0);
	bp_test_flex_release(flex, &nf);
	bp_test_flex_release(pin, &np);

	/* Off: non-pinned ones take a register each, as in 6.12. */
	KUNIT_ASSERT_EQ(test, hw_breakpoint_set_flexible(false), 0);
	for (i = 0; i < slots; i++)
		KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1, BP_ANY_CPU, false), 0);
	KUNIT_EXPECT_EQ(test, bp_test_flex(t, flex, &nf, 1, BP_ANY_CPU, false), -ENOSPC);
	/* Turning it on with breakpoints held is fine; they stay pinned. */
	KUNIT_EXPECT_EQ(test, hw_breakpoint_set_flexible(true), 0);
	KUNIT_EXPECT_EQ(test, hw_breakpoint_set_flexible(false), 0);
	bp_test_flex_release(flex, &nf);
	KUNIT_EXPECT_EQ(test, hw_breakpoint_set_flexible(true), 0);
}

static struct kunit_case hw_breakpoint_test_cases[] = {
	KUNIT_CASE_PARAM(test_fill, bp_fill_gen),
	KUNIT_CASE(test_task_transitions),
	KUNIT_CASE(test_weights),
	KUNIT_CASE(test_wide),
	KUNIT_CASE(test_wide_hits),
	KUNIT_CASE(test_move_wide),
	KUNIT_CASE(test_move_refused),
	KUNIT_CASE(test_wide_hotplug),
	KUNIT_CASE(test_dbg_slots),
	KUNIT_CASE(test_dbg_busy),
	KUNIT_CASE(test_bad_requests),
	KUNIT_CASE(test_modify_irqs_off),
	KUNIT_CASE(test_modify_check),
	KUNIT_CASE(test_kernel_addresses),
	KUNIT_CASE(test_concurrent),
	KUNIT_CASE(test_model_random),
	KUNIT_CASE(test_flexible),
	{}
};

static struct kunit_suite hw_breakpoint_test_suite = {
	.name		= "hw_breakpoint",
	.test_cases	= hw_breakpoint_test_cases,
	.init		= bp_test_init,
	.exit		= bp_test_exit,
};

kunit_test_suites(&hw_breakpoint_test_suite);

MODULE_DESCRIPTION("KUnit suite for the hardware-breakpoint slot allocator");
MODULE_LICENSE("GPL");
