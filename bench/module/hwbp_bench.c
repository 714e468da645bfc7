// SPDX-License-Identifier: GPL-2.0
/*
 * hwbp_bench: time the hardware-breakpoint slot allocator from inside the
 * kernel, through the exported API only, so that the same source builds
 * against the stock tree and against ours.
 *
 * Loading the module runs the whole benchmark and prints one line per
 * figure ("hwbp_bench: RESULT <what> <tasks> <ns per op x10>"); the bench
 * guest's init collects them from the kernel log and unloads the module.
 *
 * For each population in counts= (1, 100, 1000, 10000 by default), that
 * many idle kernel threads each hold one write watchpoint that follows
 * them on every CPU. Against that background we time create+release pairs,
 * in 20 batches of iters=/20 pairs, and report the median batch's average
 * (make bench runs the guest under QEMU's -icount: the clock counts
 * instructions, and the batches differ only by what else the guest ran):
 *
 *   cpu       a breakpoint bound to one CPU and no task
 *   task_all  a breakpoint on a task, following it on every CPU
 *   task_one  a breakpoint on a task, bound to one CPU
 *   sw_cpu, sw_task
 *             the same create+release of a counting, pinned cpu-clock
 *             software event: what the perf core costs by itself, without
 *             any slot accounting. Not the dummy event: every event of the
 *             "software" PMU takes and drops a reference on a hash list of
 *             each possible CPU (a mutex each), and the first one enables a
 *             static key, costs no breakpoint pays; a cpu-clock event that
 *             does not sample starts no timer and allocates nothing of its
 *             own
 *
 * and "grow": the average cost of each background watchpoint added.
 *
 * The benchmark runs in a kernel thread bound to bench_cpu=, the CPU the
 * CPU-bound events are for, so that installing and removing them is a
 * local call rather than an IPI to a vCPU the host may not be running.
 */

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hw_breakpoint.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/perf_event.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

static int counts[8] = { 1, 100, 1000, 10000 };
static int nr_counts = 4;
module_param_array(counts, int, &nr_counts, 0444);
MODULE_PARM_DESC(counts, "background task-breakpoint populations, ascending");

static int iters = 400;
module_param(iters, int, 0444);
MODULE_PARM_DESC(iters, "create+release pairs timed per figure");

static int bench_cpu = 1;
module_param(bench_cpu, int, 0444);
MODULE_PARM_DESC(bench_cpu, "CPU the CPU-bound events are bound to");

/*
 * Where the task the timed task events go to sleeps. Removing an event
 * from a task's context asks the task's CPU whether the task runs there
 * (task_function_call()): a local call when it is bench_cpu, an IPI
 * otherwise, about a thousand instructions apart. A kernel thread left
 * where the scheduler put it made every task figure bimodal between
 * boots, so the victim, and the holders, are bound.
 */
static int victim_cpu = 2;
module_param(victim_cpu, int, 0444);
MODULE_PARM_DESC(victim_cpu, "CPU the task of the task events sleeps on");

/*
 * What the watchpoints watch: a user address nothing maps (the holders
 * and the victim are kernel threads, with no user memory at all), so
 * that they never fire. A kernel address would do on x86, but arm64
 * refuses task breakpoints on kernel addresses.
 */
#define BENCH_ADDR	0x10000UL

/* One idle kernel thread and the watchpoint it carries. */
struct bench_holder {
	struct task_struct	*task;
	struct perf_event	*bp;
};

static struct bench_holder *holders;
static int nr_holders;

/* The task the timed task events go to: idle like the holders. */
static struct task_struct *victim;

static int bench_idle(void *unused)
{
	for (;;) {
		set_current_state(TASK_IDLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void bench_bp_attr(struct perf_event_attr *attr)
{
	hw_breakpoint_init(attr);
	attr->bp_addr = BENCH_ADDR;
	attr->exclude_kernel = 1;
	attr->bp_len = HW_BREAKPOINT_LEN_8;
	attr->bp_type = HW_BREAKPOINT_W;
}

static void bench_sw_attr(struct perf_event_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->type = PERF_TYPE_SOFTWARE;
	attr->size = sizeof(*attr);
	attr->config = PERF_COUNT_SW_CPU_CLOCK;
	attr->pinned = 1;
}

/* The @n-th online CPU, counting round the online ones. */
static int bench_nth_cpu(int n)
{
	int cpu, i = n % num_online_cpus();

	for_each_online_cpu(cpu)
		if (i-- == 0)
			return cpu;
	return bench_cpu;
}

/* Add holders until there are @want of them; returns 0 or an errno. */
static int bench_grow(int want)
{
	struct perf_event_attr attr;
	struct bench_holder *h;

	bench_bp_attr(&attr);
	while (nr_holders < want) {
		h = &holders[nr_holders];
		h->task = kthread_create(bench_idle, NULL, "hwbp_bench/%d",
					 nr_holders);
		if (IS_ERR(h->task))
			return PTR_ERR(h->task);
		/* Spread over the CPUs, the same way every boot. */
		kthread_bind(h->task, bench_nth_cpu(nr_holders));
		wake_up_process(h->task);
		h->bp = register_user_hw_breakpoint(&attr, NULL, NULL, h->task);
		if (IS_ERR(h->bp)) {
			int err = PTR_ERR(h->bp);

			kthread_stop(h->task);
			return err;
		}
		nr_holders++;
		/* 10k threads in a row: let the rest of the guest breathe. */
		cond_resched();
	}
	return 0;
}

static void bench_drop_all(void)
{
	while (nr_holders > 0) {
		struct bench_holder *h = &holders[--nr_holders];

		unregister_hw_breakpoint(h->bp);
		kthread_stop(h->task);
		cond_resched();
	}
}

enum bench_kind { K_CPU, K_TASK_ALL, K_TASK_ONE, K_SW_CPU, K_SW_TASK };

static const char * const bench_names[] = {
	[K_CPU] = "cpu", [K_TASK_ALL] = "task_all", [K_TASK_ONE] = "task_one",
	[K_SW_CPU] = "sw_cpu", [K_SW_TASK] = "sw_task",
};

static struct perf_event *bench_make(enum bench_kind kind)
{
	struct perf_event_attr attr;

	if (kind == K_SW_CPU || kind == K_SW_TASK)
		bench_sw_attr(&attr);
	else
		bench_bp_attr(&attr);

	switch (kind) {
	case K_CPU:
	case K_SW_CPU:
		return perf_event_create_kernel_counter(&attr, bench_cpu, NULL,
							 NULL, NULL);
	case K_TASK_ALL:
		return register_user_hw_breakpoint(&attr, NULL, NULL, victim);
	case K_TASK_ONE:
		return perf_event_create_kernel_counter(&attr, bench_cpu, victim,
							 NULL, NULL);
	case K_SW_TASK:
		return perf_event_create_kernel_counter(&attr, -1, victim,
							 NULL, NULL);
	}
	return ERR_PTR(-EINVAL);
}

#define BENCH_BATCHES 20

/*
 * Average ns of one create+release in the median batch, times ten;
 * negative: an errno.
 */
static long long bench_time(enum bench_kind kind)
{
	int i, j, batch, per_batch = max(iters / BENCH_BATCHES, 1);
	u64 start, took[BENCH_BATCHES];
	struct perf_event *ev;

	/* One untimed pair: caches, first-use allocations, RCU sync state. */
	ev = bench_make(kind);
	if (IS_ERR(ev))
		return PTR_ERR(ev);
	perf_event_release_kernel(ev);
	/*
	 * Start from a quiet guest: under -icount the clock counts what every
	 * vCPU executes, so RCU callbacks and deferred work still pending from
	 * the previous figure (or the population growth) would be charged to
	 * this one. Idle time costs nothing there (sleep=off).
	 */
	rcu_barrier();
	msleep(20);

	for (batch = 0; batch < BENCH_BATCHES; batch++) {
		start = ktime_get_ns();
		for (i = 0; i < per_batch; i++) {
			ev = bench_make(kind);
			if (IS_ERR(ev))
				return PTR_ERR(ev);
			perf_event_release_kernel(ev);
		}
		took[batch] = ktime_get_ns() - start;
		/* Insertion sort: the batches in ascending order. */
		for (j = batch; j > 0 && took[j - 1] > took[j]; j--)
			swap(took[j - 1], took[j]);
		cond_resched();
	}
	return div_u64((took[BENCH_BATCHES / 2 - 1] +
			took[BENCH_BATCHES / 2]) * 5, per_batch);
}

static void bench_report(const char *what, int tasks, long long v)
{
	if (v < 0)
		pr_info("hwbp_bench: ERROR %s %d %lld\n", what, tasks, v);
	else
		pr_info("hwbp_bench: RESULT %s %d %lld\n", what, tasks, v);
}

static int bench_run(void)
{
	int i, k, err, max = 0;
	u64 start;

	for (i = 0; i < nr_counts; i++)
		max = max(max, counts[i]);
	holders = kvcalloc(max, sizeof(*holders), GFP_KERNEL);
	if (!holders)
		return -ENOMEM;

	victim = kthread_create(bench_idle, NULL, "hwbp_bench/victim");
	if (IS_ERR(victim)) {
		err = PTR_ERR(victim);
		goto out_free;
	}
	kthread_bind(victim, victim_cpu);
	wake_up_process(victim);

	for (i = 0; i < nr_counts; i++) {
		int before = nr_holders;

		start = ktime_get_ns();
		err = bench_grow(counts[i]);
		if (err) {
			pr_info("hwbp_bench: STOP %d %d\n", counts[i], err);
			break;
		}
		if (nr_holders > before)
			bench_report("grow", counts[i],
				     div_u64((ktime_get_ns() - start) * 10,
					     nr_holders - before));
		for (k = 0; k < ARRAY_SIZE(bench_names); k++)
			bench_report(bench_names[k], counts[i], bench_time(k));
	}
	err = 0;

	start = ktime_get_ns();
	bench_drop_all();
	kthread_stop(victim);
	pr_info("hwbp_bench: dropped everything in %llu ms\n",
		div_u64(ktime_get_ns() - start, NSEC_PER_MSEC));
out_free:
	kvfree(holders);
	return err;
}

static DECLARE_COMPLETION(bench_done);
static int bench_err;

static int bench_main(void *unused)
{
	bench_err = bench_run();
	/* Out of the module's text before init returns and rmmod may run. */
	kthread_complete_and_exit(&bench_done, 0);
}

static int __init hwbp_bench_init(void)
{
	struct task_struct *runner;

	if (iters <= 0 || nr_counts <= 0 || bench_cpu < 0 ||
	    bench_cpu >= nr_cpu_ids || !cpu_online(bench_cpu) ||
	    victim_cpu < 0 || victim_cpu >= nr_cpu_ids ||
	    !cpu_online(victim_cpu))
		return -EINVAL;
	pr_info("hwbp_bench: BEGIN iters=%d cpu=%d\n", iters, bench_cpu);
	runner = kthread_create(bench_main, NULL, "hwbp_bench/run");
	if (IS_ERR(runner))
		return PTR_ERR(runner);
	kthread_bind(runner, bench_cpu);
	wake_up_process(runner);
	wait_for_completion(&bench_done);
	pr_info("hwbp_bench: END %d\n", bench_err);
	/* Loaded only to run: the results are in the log either way. */
	return bench_err;
}

static void __exit hwbp_bench_exit(void)
{
}

module_init(hwbp_bench_init);
module_exit(hwbp_bench_exit);
MODULE_DESCRIPTION("hardware breakpoint allocator microbenchmark");
MODULE_LICENSE("GPL");
