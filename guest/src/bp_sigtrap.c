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
#define COOKIE		((unsigned long)0xc0ffee5eedULL)	/* si_perf_data: a long */

static volatile uint64_t var __attribute__((aligned(8)));
static volatile uint64_t other __attribute__((aligned(8)));
static volatile int hits, bad;
static struct perf_siginfo last;
static __thread int thread_hits;

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
	thread_hits++;
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
	tap_ok(hits == GUEST_HITS(N) && !bad,
	       "%s: %d signals for %d hits (%lld expected), %d not TRAP_PERF",
	       what, hits, N, GUEST_HITS(N), bad);
	tap_ok(last.addr == addr, "%s: si_addr %p, expected %p", what, last.addr,
	       addr);
	tap_ok(last.data == COOKIE && last.type == PERF_TYPE_BREAKPOINT,
	       "%s: sig_data %#lx, perf type %u", what, last.data, last.type);
}

#define THREADS		4

static int thread_got[THREADS];

static void *thread_writes(void *slot)
{
	int i;

	for (i = 0; i < N; i++) {
		var = i;
		called();
	}
	*(int *)slot = thread_hits;
	return NULL;
}

/*
 * Threads inherit the events (inherit_thread): each write and call in each
 * thread is one signal, delivered to that thread, never repeated. On
 * 32-bit arm under QEMU each event signals its first hit only, and any
 * breakpoint hit ends every step in progress (a mismatch breakpoint QEMU
 * never fires), so there two events in one thread signal as often as
 * their hits interleave: those run one event at a time.
 */
static void test_threads(const char *what, int watch, int exec)
{
	int wfd = -1, xfd = -1, i, started = 0, want, right = 0;
	pthread_t t[THREADS];

	if (watch && exec && !GUEST_EVERY_HIT) {
		tap_skip("32-bit arm under QEMU: a breakpoint's hit ends the watchpoint's step",
			 "%s: inherited sigtrap events in threads", what);
		return;
	}
	if (watch)
		wfd = open_sigtrap_attr((void *)&var, GUEST_PERF_WATCH,
					sizeof(var), 1);
	if (exec)
		xfd = open_sigtrap_attr(guest_code_addr(called), HW_BREAKPOINT_X,
					guest_code_len(called), 1);
	if (!tap_ok((!watch || wfd >= 0) && (!exec || xfd >= 0),
		    "%s: inherited sigtrap events open (errno %d)", what, errno))
		goto out;
	want = (watch + exec) * GUEST_HITS(N);
	hits = bad = 0;
	for (i = 0; i < THREADS; i++) {
		thread_got[i] = -1;
		started += !pthread_create(&t[started], NULL, thread_writes,
					   &thread_got[started]);
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		right += thread_got[i] == want;
	}
	tap_ok(started == THREADS && right == THREADS && hits == want * THREADS &&
	       !bad,
	       "%s: %d threads, %d writes and %d calls each: %d signals (%d threads got their %d), %d not TRAP_PERF",
	       what, started, N, N, hits, right, want, bad);
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
		.bp_type = GUEST_PERF_WATCH, .bp_len = sizeof(other),
		.sample_period = 1, .exclude_kernel = 1, .exclude_hv = 1,
		.sigtrap = 1, .remove_on_exec = 1, .sig_data = COOKIE,
	};
	int fd = open_sigtrap((void *)&var, GUEST_PERF_WATCH, sizeof(var)), i;

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

	fd = open_sigtrap((void *)&var, GUEST_PERF_WATCH, sizeof(var));
	if (tap_ok(fd >= 0, "sigtrap write watchpoint opens (errno %d)", errno)) {
		hits = bad = 0;
		for (i = 0; i < N; i++)
			var = i;
		check("write watchpoint", (void *)&var);
		close(fd);
	}

	fd = open_sigtrap(guest_code_addr(called), HW_BREAKPOINT_X,
			  guest_code_len(called));
	if (tap_ok(fd >= 0, "sigtrap execute breakpoint opens (errno %d)", errno)) {
		hits = bad = 0;
		for (i = 0; i < N; i++)
			called();
		check("execute breakpoint", guest_code_addr(called));
		close(fd);
	}

	/* Disabled, it stays silent; enabled again, it fires again. */
	fd = open_sigtrap((void *)&var, GUEST_PERF_WATCH, sizeof(var));
	if (tap_ok(fd >= 0, "third sigtrap watchpoint opens (errno %d)", errno)) {
		hits = bad = 0;
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		for (i = 0; i < N; i++)
			var = i;
		tap_ok(hits == 0, "disabled: %d signals", hits);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
		for (i = 0; i < N; i++)
			var = i;
		tap_ok(hits == GUEST_HITS(N),
		       "enabled again: %d signals for %d writes", hits, N);
		close(fd);
	}
	test_modify();
	test_threads("watchpoint", 1, 0);
	test_threads("breakpoint", 0, 1);
	test_threads("watchpoint and breakpoint", 1, 1);
	return tap_done();
}
