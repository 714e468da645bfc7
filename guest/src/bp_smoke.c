// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test of the breakpoint subsystem from user space, on every arch:
 * perf breakpoint events count exactly, a ptrace watchpoint stops the
 * tracee with SIGTRAP/TRAP_HWBKPT, and a thread cannot pin more
 * breakpoints than the CPU has registers. On 32-bit arm under QEMU a
 * counting event counts its first hit only (GUEST_HITS), and its
 * watchpoints are read-write ones (GUEST_PERF_WATCH).
 */
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"

#define N_ACCESSES	1000

static volatile unsigned long watched __attribute__((aligned(8)));
static volatile unsigned long sink;

static noinline void write_n(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		watched = i;
}

static noinline void read_n(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink = watched;
}

static noinline void called(void)
{
	asm volatile("" ::: "memory");
}

static void test_count(const char *what, unsigned int type, const void *addr,
		       unsigned int len, void (*work)(void), long long expect)
{
	long long got;
	int fd;

	fd = perf_bp_open(addr, type, len, 0, -1, NULL);
	if (!tap_ok(fd >= 0, "perf %s breakpoint opens (errno %d)", what,
		    fd < 0 ? errno : 0))
		return;
	work();
	got = perf_count(fd);
	tap_ok(got == expect, "perf %s count: %lld, expected %lld", what, got,
	       expect);
	close(fd);
}

/*
 * Where write-only watchpoints need a handler of the caller's own (32-bit
 * arm before ARMv8 debug), perf's own handler gets EINVAL for one.
 */
static void test_write_refused(void)
{
	int fd = perf_bp_open((const void *)&watched, HW_BREAKPOINT_W,
			      sizeof(watched), 0, -1, NULL);

	tap_ok(fd < 0 && errno == EINVAL,
	       "perf write watchpoint refused with EINVAL (fd %d, errno %d)",
	       fd, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
}

static void work_write(void) { write_n(N_ACCESSES); }
static void work_rw(void) { write_n(N_ACCESSES); read_n(N_ACCESSES); }
static void work_exec(void)
{
	for (int i = 0; i < N_ACCESSES; i++)
		called();
}

static void child_writes(void)
{
	watched = 0x5a5a;
}

static void test_ptrace_watch(void)
{
	siginfo_t si;
	int status, ret;
	pid_t pid;

	watched = 0;
	pid = guest_spawn_traced(child_writes);
	if (!tap_ok(pid > 0, "ptrace: traced child stopped"))
		return;
	ret = guest_ptrace_watch(pid, (const void *)&watched, sizeof(watched),
				 GUEST_WATCH_WRITE);
	tap_ok(ret == 0, "ptrace: write watchpoint accepted (%d)", ret);
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	tap_ok(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP,
	       "ptrace: child stops with SIGTRAP on the write (status %#x)",
	       status);
	memset(&si, 0, sizeof(si));
	ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
	tap_ok(si.si_code == TRAP_HWBKPT, "ptrace: si_code is TRAP_HWBKPT (%d)",
	       si.si_code);
#if defined(__x86_64__)
	{
		long dr6 = guest_peek_dr(pid, 6);

		tap_ok(dr6 & GUEST_DR6_HIT(0), "ptrace: DR6 reports slot 0 (%#lx)",
		       dr6);
	}
#else
	tap_ok(si.si_addr == (void *)&watched,
	       "ptrace: si_addr is the watched address (%p)", si.si_addr);
#endif
	guest_ptrace_clear(pid);
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "ptrace: child runs to completion once cleared (status %#x)",
	       status);
}

static void idle_child(void)
{
}

/* Pinned breakpoints beyond the register count fail with ENOSPC. */
static void test_enospc(void)
{
	static volatile unsigned long vars[32] __attribute__((aligned(8)));
	int fds[32], n = 0, slots, err = 0;
	pid_t pid;

	pid = guest_spawn_traced(idle_child);
	slots = pid > 0 ? guest_watch_slots(pid) : -1;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (!tap_ok(slots > 0, "watchpoint slots discovered: %d", slots))
		return;

	for (n = 0; n < 32; n++) {
		struct perf_event_attr attr = {
			.sample_period = 1, .exclude_kernel = 1,
			.exclude_hv = 1, .pinned = 1,
		};

		fds[n] = perf_bp_open((const void *)&vars[n], GUEST_PERF_WATCH,
				      sizeof(long), 0, -1, &attr);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
	}
	tap_ok(n == slots, "%d breakpoints fit on one thread, expected %d", n,
	       slots);
	tap_ok(err == ENOSPC, "the next one fails with ENOSPC (errno %d)", err);
	while (n--)
		close(fds[n]);
}

int main(void)
{
	if (GUEST_PERF_WATCH == HW_BREAKPOINT_W)
		test_count("write", HW_BREAKPOINT_W, (const void *)&watched,
			   sizeof(watched), work_write, GUEST_HITS(N_ACCESSES));
	else
		test_write_refused();
	test_count("read/write", HW_BREAKPOINT_RW, (const void *)&watched,
		   sizeof(watched), work_rw, GUEST_HITS(2 * N_ACCESSES));
	test_count("execute", HW_BREAKPOINT_X, guest_code_addr(called),
		   guest_code_len(called), work_exec, GUEST_HITS(N_ACCESSES));
	test_ptrace_watch();
	test_enospc();
	return tap_done();
}
