// SPDX-License-Identifier: GPL-2.0
/*
 * Breakpoint events with attr.sigtrap: every hit sends the thread a
 * SIGTRAP (TRAP_PERF) carrying the watched address and attr.sig_data, for
 * data watchpoints and for execute breakpoints, which must also step over
 * the instruction they stop on and never fire twice for one execution.
 */
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"

#define N		100
#define COOKIE		0xc0ffee5eedUL

#ifndef TRAP_PERF
#define TRAP_PERF	6
#endif

/*
 * glibc's siginfo_t does not name the perf fields; they follow si_addr
 * (asm-generic/siginfo.h, _sigfault._perf).
 */
struct perf_siginfo {
	int		signo, err, code, pad;
	void		*addr;
	unsigned long	data;
	uint32_t	type, flags;
};

static volatile uint64_t var __attribute__((aligned(8)));
static volatile int hits, bad;
static struct perf_siginfo last;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	memcpy(&last, si, sizeof(last));
	if (last.code != TRAP_PERF)
		bad++;
	hits++;
}

static noinline void called(void)
{
	asm volatile("" ::: "memory");
}

static int open_sigtrap(const void *addr, unsigned int type, unsigned int len)
{
	struct perf_event_attr attr = {
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.sigtrap = 1,
		.remove_on_exec = 1,
		.sig_data = COOKIE,
	};

	return perf_bp_open(addr, type, len, 0, -1, &attr);
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
	return tap_done();
}
