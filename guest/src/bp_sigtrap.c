// SPDX-License-Identifier: GPL-2.0
/*
 * Breakpoint events with attr.sigtrap: every hit sends the thread a
 * SIGTRAP (TRAP_PERF) carrying the watched address and attr.sig_data, for
 * data watchpoints and for execute breakpoints, which must also step over
 * the instruction they stop on and never fire twice for one execution.
 */
#include <pthread.h>
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"

#define N		100
#define COOKIE		0xc0ffee5eedUL

static volatile uint64_t var __attribute__((aligned(8)));
static volatile uint64_t other __attribute__((aligned(8)));
static volatile int hits, bad;
static struct perf_siginfo last;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	struct perf_siginfo info;

	(void)sig;
	(void)uc;
	memcpy(&info, si, sizeof(info));
	last = info;
	if (info.code != TRAP_PERF)
		__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
	/* Threads take signals at once: count atomically. */
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
}

static noinline void called(void)
{
	asm volatile("" ::: "memory");
}

static int open_sigtrap_attr(const void *addr, unsigned int type,
			     unsigned int len, int inherit)
{
	struct perf_event_attr attr = {
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.sigtrap = 1,
		.remove_on_exec = 1,
		.inherit = inherit,
		.inherit_thread = inherit,
		.sig_data = COOKIE,
	};

	return perf_bp_open(addr, type, len, 0, -1, &attr);
}

static int open_sigtrap(const void *addr, unsigned int type, unsigned int len)
{
	return open_sigtrap_attr(addr, type, len, 0);
}

static void check(const char *what, const void *addr)
{
	tap_ok(hits == N && !bad, "%s: %d signals for %d hits, %d not TRAP_PERF",
	       what, hits, N, bad);
	tap_ok(last.addr == addr, "%s: si_addr %p, expected %p", what, last.addr,
	       addr);
	tap_ok(last.data == COOKIE && last.type == PERF_TYPE_BREAKPOINT,
	       "%s: sig_data %#lx, perf type %u", what, last.data, last.type);
}

#define THREADS		4

static void *thread_writes(void *unused)
{
	int i;

	(void)unused;
	for (i = 0; i < N; i++) {
		var = i;
		called();
	}
	return NULL;
}

/*
 * Threads inherit the events (inherit_thread): each write and call in each
 * thread is one signal, delivered to that thread, never repeated.
 */
static void test_threads(void)
{
	int wfd = open_sigtrap_attr((void *)&var, HW_BREAKPOINT_W, sizeof(var), 1);
	int xfd = open_sigtrap_attr((void *)called, HW_BREAKPOINT_X,
				    sizeof(long), 1);
	pthread_t t[THREADS];
	int i, started = 0;

	if (!tap_ok(wfd >= 0 && xfd >= 0,
		    "inherited sigtrap watchpoint and breakpoint open (errno %d)",
		    errno))
		goto out;
	hits = bad = 0;
	for (i = 0; i < THREADS; i++)
		started += !pthread_create(&t[i], NULL, thread_writes, NULL);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	tap_ok(started == THREADS && hits == 2 * N * THREADS && !bad,
	       "%d threads, %d writes and %d calls each: %d signals, %d not TRAP_PERF",
	       started, N, N, hits, bad);
out:
	if (wfd >= 0)
		close(wfd);
	if (xfd >= 0)
		close(xfd);
}

/* Moved to another variable, the watchpoint signals there only. */
static void test_modify(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT, .size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W, .bp_len = sizeof(other),
		.sample_period = 1, .exclude_kernel = 1, .exclude_hv = 1,
		.sigtrap = 1, .remove_on_exec = 1, .sig_data = COOKIE,
	};
	int fd = open_sigtrap((void *)&var, HW_BREAKPOINT_W, sizeof(var)), i;

	if (!tap_ok(fd >= 0, "sigtrap watchpoint to modify opens (errno %d)",
		    errno))
		return;
	attr.bp_addr = (uintptr_t)&other;
	if (tap_ok(!ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr),
		   "moved to another variable (errno %d)", errno)) {
		hits = bad = 0;
		for (i = 0; i < N; i++)
			var = i;
		tap_ok(hits == 0, "modified: the old variable is silent (%d signals)",
		       hits);
		for (i = 0; i < N; i++)
			other = i;
		check("modified watchpoint", (void *)&other);
	}
	close(fd);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
	int fd, i;

	sigaction(SIGTRAP, &sa, NULL);

	fd = open_sigtrap((void *)&var, HW_BREAKPOINT_W, sizeof(var));
	if (tap_ok(fd >= 0, "sigtrap write watchpoint opens (errno %d)", errno)) {
		hits = bad = 0;
		for (i = 0; i < N; i++)
			var = i;
		check("write watchpoint", (void *)&var);
		close(fd);
	}

	fd = open_sigtrap((void *)called, HW_BREAKPOINT_X, sizeof(long));
	if (tap_ok(fd >= 0, "sigtrap execute breakpoint opens (errno %d)", errno)) {
		hits = bad = 0;
		for (i = 0; i < N; i++)
			called();
		check("execute breakpoint", (void *)called);
		close(fd);
	}

	/* Disabled, it stays silent; enabled again, it fires again. */
	fd = open_sigtrap((void *)&var, HW_BREAKPOINT_W, sizeof(var));
	if (tap_ok(fd >= 0, "third sigtrap watchpoint opens (errno %d)", errno)) {
		hits = bad = 0;
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		for (i = 0; i < N; i++)
			var = i;
		tap_ok(hits == 0, "disabled: %d signals", hits);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
		for (i = 0; i < N; i++)
			var = i;
		tap_ok(hits == N, "enabled again: %d signals for %d writes", hits, N);
		close(fd);
	}
	test_modify();
	test_threads();
	return tap_done();
}
