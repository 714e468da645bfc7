// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress for breakpoint slots: threads create, modify
 * (PERF_EVENT_IOC_MODIFY_ATTRIBUTES), enable, disable and close task
 * breakpoints (on every CPU and on one CPU) and CPU-bound ones, while
 * other threads fork children that inherit a watchpoint, program a
 * tracee's debug registers through ptrace, and take a CPU offline and
 * online. Meanwhile a pinned watchpoint must count exactly, and an
 * inherited one must sum its children's writes. Every request is valid,
 * so each gets a breakpoint or ENOSPC (ENODEV on the CPU being taken
 * offline), every ptrace write succeeds or finds no room, and the CPU
 * really went offline and back. At the end no slot may be held.
 * "bp_stress SECONDS" sets the duration.
 *
 * On 32-bit arm the churn asks only for what that backend gives user
 * space with perf's own overflow handler: read-write watchpoints (before
 * ARMv8 debug the fault status cannot tell a load from a store, so
 * write-only ones need a handler of the caller's) of a task, on every
 * CPU or one (it steps over a hit with a breakpoint of the task's own,
 * so none bound to a CPU alone). And under QEMU, which implements no
 * address-mismatch breakpoints, the backend's step over a hit never
 * ends: a counting watchpoint counts its first hit only (stock too). So
 * there the pinned counter is a new watchpoint each round that must see
 * that round's first write, and each child's inherited watchpoint adds
 * one, its first write.
 */
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tap.h"
#include "hwbp_guest.h"

#define CHURN_THREADS	4
#define MAX_OPEN	6

/* This task, on every CPU or on one; and CPU-bound, of no task. */
#define CHURN_WHERE	(GUEST_CPU_BOUND ? 3 : 2)

static volatile int stop;
static int ncpus;
static volatile uint64_t churn_vars[CHURN_THREADS][4] __attribute__((aligned(64)));

struct churn_stats {
	long ops, opened, modified, refused, undocumented;
};

static struct churn_stats churn_stats[CHURN_THREADS];

static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * CPU 1 may be offline: set by the hotplug thread before it takes the CPU
 * down, cleared once it is back up.
 */
static volatile int cpu1_may_be_offline;

/*
 * Every request the churn makes is valid, so it gets a breakpoint or
 * ENOSPC; a CPU-bound one on CPU 1 may also get ENODEV while that CPU is
 * offline. Anything else is a failure.
 */
static int allowed(int err, int cpu, int offline_before)
{
	return err == ENOSPC ||
	       (err == ENODEV && cpu == 1 && (offline_before || cpu1_may_be_offline));
}

static void *churn(void *arg)
{
	long id = (long)arg;
	struct churn_stats *st = &churn_stats[id];
	int fds[MAX_OPEN], pinned[MAX_OPEN], n = 0;
	uint64_t s = 0x9e3779b97f4a7c15ULL * (id + 1);

	while (!stop) {
		uint64_t r = rnd_next(&s);
		int op = r % 10;

		st->ops++;
		if (op < 4 && n < MAX_OPEN) {
			struct perf_event_attr attr = {
				.sample_period = 1, .exclude_kernel = 1,
				.exclude_hv = 1, .pinned = (r >> 8) & 1,
				.disabled = (r >> 9) & 1,
			};
			int where = (r >> 10) % CHURN_WHERE;
			int cpu = where ? (int)((r >> 12) % ncpus) : -1;
			pid_t pid = where == 2 ? -1 : 0;
			int offline = cpu1_may_be_offline;
			int fd = perf_bp_open((void *)&churn_vars[id][(r >> 16) % 4],
					      (r >> 20) & 1 ? HW_BREAKPOINT_RW :
					      GUEST_PERF_WATCH, 8, pid, cpu, &attr);

			if (fd >= 0) {
				pinned[n] = attr.pinned;
				fds[n++] = fd;
				st->opened++;
			} else if (errno == ENOSPC) {
				st->refused++;
			} else if (!allowed(errno, cpu, offline)) {
				if (st->undocumented++ < 3)
					tap_diag("open (pid %d, cpu %d): errno %d",
						 pid, cpu, errno);
			}
		} else if (op < 6 && n) {
			int i = (r >> 8) % n;

			close(fds[i]);
			fds[i] = fds[--n];
			pinned[i] = pinned[n];
		} else if (op < 8 && n) {
			int i = (r >> 8) % n;
			struct perf_event_attr attr = {
				.type = PERF_TYPE_BREAKPOINT, .size = sizeof(attr),
				.bp_type = (r >> 12) & 1 ? HW_BREAKPOINT_RW :
					   GUEST_PERF_WATCH,
				.bp_addr = (uintptr_t)&churn_vars[id][(r >> 16) % 4],
				.bp_len = 8, .sample_period = 1,
				.exclude_kernel = 1, .exclude_hv = 1,
				.pinned = pinned[i],
			};

			/*
			 * Only the address, length, type and disabled may
			 * change; write and read-write take the same kind of
			 * register, so the breakpoint always keeps its slot.
			 */
			if (!ioctl(fds[i], PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr)) {
				st->modified++;
			} else if (st->undocumented++ < 3) {
				tap_diag("modify: errno %d", errno);
			}
		} else if (n) {
			ioctl(fds[(r >> 8) % n], (r >> 16) & 1 ?
			      PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
		}
		churn_vars[id][r % 4] = r;
	}
	while (n)
		close(fds[--n]);
	return NULL;
}

static long counter_writes, counter_mismatch;

/*
 * A pinned watchpoint on a private variable counts every write (on arm:
 * a new one each round counts the round's first write).
 */
static void *counter(void *arg)
{
	static volatile uint64_t mine __attribute__((aligned(8)));
	struct perf_event_attr attr = {
		.sample_period = 1, .exclude_kernel = 1, .exclude_hv = 1,
		.pinned = 1,
	};
	int fd = -1;
	long long expect = 0;

	(void)arg;
	while (!stop) {
		if (fd < 0) {
			fd = perf_bp_open((void *)&mine, GUEST_PERF_WATCH, 8, 0, -1, &attr);
			expect = 0;
		}
		if (fd < 0) {
			counter_mismatch = -1;
			return NULL;
		}
		for (int i = 0; i < 1000; i++)
			mine = i;
		counter_writes += 1000;
		expect += GUEST_EVERY_HIT ? 1000 : 1;
		if (perf_count(fd) != expect)
			counter_mismatch++;
		if (!GUEST_EVERY_HIT) {
			close(fd);
			fd = -1;
		}
		usleep(1000);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static long forks, inherit_expected, inherit_counted;

/* Children inherit a watchpoint; their writes add up in the parent's. */
static void *forker(void *arg)
{
	static volatile uint64_t shared __attribute__((aligned(8)));
	struct perf_event_attr attr = {
		.sample_period = 1, .exclude_kernel = 1, .exclude_hv = 1,
		.inherit = 1,
	};
	int fd = perf_bp_open((void *)&shared, GUEST_PERF_WATCH, 8, 0, -1, &attr);

	(void)arg;
	if (fd < 0)
		return NULL;
	while (!stop) {
		pid_t pid = fork();

		if (pid == 0) {
			for (int i = 0; i < 100; i++)
				shared = i;
			_exit(0);
		}
		if (pid > 0) {
			waitpid(pid, NULL, 0);
			forks++;
			inherit_expected += GUEST_EVERY_HIT ? 100 : 1;
		}
	}
	inherit_counted = perf_count(fd);
	close(fd);
	return NULL;
}

static long pokes, poke_refused, poke_failures, spawn_failures;

/*
 * A tracer keeps rewriting a stopped tracee's debug registers. A watch
 * may find no room (the churn's CPU-bound breakpoints can fill a CPU):
 * ENOSPC; clearing always works.
 */
static void *tracer(void *arg)
{
	static volatile uint64_t spot __attribute__((aligned(8)));

	(void)arg;
	while (!stop) {
		pid_t pid = guest_spawn_traced(guest_idle);
		int ret;

		if (pid < 0) {
			spawn_failures++;
			continue;
		}
		for (int i = 0; i < 50 && !stop; i++) {
			ret = guest_ptrace_watch(pid, (void *)&spot, 8,
						 i % 2 ? GUEST_WATCH_RW :
						 GUEST_WATCH_WRITE);
			if (ret == -ENOSPC)
				poke_refused++;
			else if (ret && poke_failures++ < 3)
				tap_diag("ptrace watch: %d", ret);
			ret = guest_ptrace_clear(pid);
			if (ret && poke_failures++ < 3)
				tap_diag("ptrace clear: %d", ret);
			pokes++;
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return NULL;
}

static long hotplugs;

/* CPU 1 goes offline and online again, where the kernel lets it. */
static void *hotplug(void *arg)
{
	int fd;

	(void)arg;
	while (!stop) {
		fd = open("/sys/devices/system/cpu/cpu1/online", O_WRONLY);
		if (fd < 0)
			return NULL;
		cpu1_may_be_offline = 1;
		if (write(fd, "0", 1) == 1) {
			usleep(200000);
			if (write(fd, "1", 1) == 1)
				hotplugs++;
		}
		cpu1_may_be_offline = 0;
		close(fd);
		usleep(300000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 20;
	pthread_t churners[CHURN_THREADS], others[4];
	long ops = 0, opened = 0, modified = 0, refused = 0, undocumented = 0;
	void *(*fns[4])(void *) = { counter, forker, tracer, hotplug };
	int i;

	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < CHURN_THREADS; i++)
		pthread_create(&churners[i], NULL, churn, (void *)(long)i);
	for (i = 0; i < 4; i++)
		pthread_create(&others[i], NULL, fns[i], NULL);
	sleep(seconds);
	stop = 1;
	for (i = 0; i < CHURN_THREADS; i++)
		pthread_join(churners[i], NULL);
	for (i = 0; i < 4; i++)
		pthread_join(others[i], NULL);

	for (i = 0; i < CHURN_THREADS; i++) {
		ops += churn_stats[i].ops;
		opened += churn_stats[i].opened;
		modified += churn_stats[i].modified;
		refused += churn_stats[i].refused;
		undocumented += churn_stats[i].undocumented;
	}
	tap_diag("%d s on %d CPUs: %ld operations (%ld opened, %ld modified, %ld ENOSPC), %ld forks, %ld ptrace writes, %ld hotplug cycles",
		 seconds, ncpus, ops, opened, modified, refused, forks, pokes,
		 hotplugs);
	tap_ok(opened > 0 && modified > 0, "the churn threads opened and modified breakpoints");
	tap_ok(undocumented == 0,
	       "every valid request got a breakpoint, ENOSPC, or ENODEV on an offline CPU (%ld others)",
	       undocumented);
	tap_ok(counter_writes > 0 && counter_mismatch == 0,
	       "a pinned watchpoint counted %ld writes exactly (%ld mismatches%s)",
	       counter_writes, counter_mismatch,
	       GUEST_EVERY_HIT ? "" : "; arm: the first of each round");
	tap_ok(forks > 0 && inherit_counted == inherit_expected,
	       "an inherited watchpoint summed %ld children's writes: %ld, expected %ld%s",
	       forks, inherit_counted, inherit_expected,
	       GUEST_EVERY_HIT ? "" : " (arm: one a child)");
	tap_ok(pokes > 0 && !poke_failures && !spawn_failures,
	       "the tracer rewrote debug registers %ld times (%ld ENOSPC, %ld failures, %ld tracees not started)",
	       pokes, poke_refused, poke_failures, spawn_failures);
	tap_ok(hotplugs > 0, "CPU 1 went offline and online %ld times", hotplugs);
	guest_check_all_free();
	return tap_done();
}
