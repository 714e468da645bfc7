// SPDX-License-Identifier: GPL-2.0
/*
 * Bad-input fuzzer for breakpoint events and debug-register ptrace: random
 * perf_event_attr for PERF_TYPE_BREAKPOINT (type bits, lengths, kernel,
 * non-canonical and misaligned addresses, flags, sampling) as root and as
 * an unprivileged user, and random debug-register writes through ptrace.
 * Every call must give a valid fd or a documented errno; afterwards every
 * slot must be free again. The harness checks that the kernel log stays
 * clean. Seeded: "bp_fuzz SEED ITERATIONS" replays a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include "tap.h"
#include "hwbp_guest.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t pick(const uint64_t *vals, size_t n)
{
	return vals[rnd() % n];
}

#define PICK(a) pick(a, sizeof(a) / sizeof((a)[0]))

static volatile uint64_t var[8] __attribute__((aligned(64)));
static int ncpus;

static void random_attr(struct perf_event_attr *attr)
{
	const uint64_t addrs[] = {
		(uintptr_t)&var[0], (uintptr_t)&var[1] + 1, (uintptr_t)&var[2] + 3,
		(uintptr_t)&var[3] + 6, 0, 8, ~0ULL, ~0ULL - 7,
		0x0000800000000000ULL,		/* first non-canonical (48-bit) */
		0x00007ffffffffff8ULL,		/* last user qword */
		0xffff800000000000ULL, 0xffffffff81000000ULL,
		0xfffffe0000000000ULL,		/* x86 cpu_entry_area */
		rnd(),
	};
	const uint64_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, rnd() };
	const uint64_t types[] = {
		HW_BREAKPOINT_R, HW_BREAKPOINT_W, HW_BREAKPOINT_RW,
		HW_BREAKPOINT_X, 0, HW_BREAKPOINT_X | HW_BREAKPOINT_W,
		HW_BREAKPOINT_INVALID, rnd() & 0xff, rnd(),
	};
	uint64_t flags = rnd();

	memset(attr, 0, sizeof(*attr));
	attr->type = PERF_TYPE_BREAKPOINT;
	attr->size = sizeof(*attr);
	attr->bp_addr = PICK(addrs);
	attr->bp_len = PICK(lens);
	attr->bp_type = PICK(types);
	attr->disabled = flags & 1;
	attr->inherit = (flags >> 1) & 1;
	attr->pinned = (flags >> 2) & 1;
	attr->exclusive = (flags >> 3) & 1;
	attr->exclude_user = (flags >> 4) & 1;
	attr->exclude_kernel = (flags >> 5) & 1;
	attr->exclude_hv = (flags >> 6) & 1;
	attr->sigtrap = (flags >> 7) & 1 && (flags >> 8) & 1;
	attr->remove_on_exec = attr->sigtrap || ((flags >> 9) & 1);
	attr->precise_ip = (flags >> 10) & 3;
	attr->sample_period = (flags >> 12) & 7;
	attr->sample_type = (flags >> 16) & 0x3ff;
	attr->watermark = (flags >> 26) & 1;
	attr->wakeup_events = (flags >> 27) & 3;
	attr->exclude_idle = (flags >> 29) & 1;
	attr->sig_data = rnd();
}

/* The errors a bad breakpoint request may get; anything else is a bug. */
static int documented(int err)
{
	switch (err) {
	case EINVAL: case ENOSPC: case EPERM: case EACCES: case EOPNOTSUPP:
	case ENOENT: case E2BIG: case ENODEV: case EBUSY:
		return 1;
	}
	return 0;
}

/* Returns the number of calls with an undocumented outcome. */
static long fuzz_perf(long iterations, long *opened)
{
	struct perf_event_attr attr;
	long bad = 0, i;

	for (i = 0; i < iterations; i++) {
		int cpu = rnd() % 4 ? -1 : (int)(rnd() % (ncpus + 1)) - 1;
		pid_t pid = cpu >= 0 && rnd() % 2 ? -1 : 0;
		int fd;

		random_attr(&attr);
		fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, 0);
		if (fd >= 0) {
			(*opened)++;
			if (!attr.sigtrap)
				var[rnd() % 8] = i;	/* maybe hit it */
			close(fd);
		} else if (!documented(errno)) {
			if (bad++ < 5)
				tap_diag("attr type %#llx len %llu addr %#llx pid %d cpu %d: errno %d",
					 (unsigned long long)attr.bp_type,
					 (unsigned long long)attr.bp_len,
					 (unsigned long long)attr.bp_addr, pid, cpu,
					 errno);
		}
	}
	return bad;
}

/* Random debug-register writes on a stopped tracee. */
static long fuzz_ptrace(long iterations)
{
	pid_t pid = guest_spawn_traced(guest_idle);
	long bad = 0, i;

	if (pid < 0)
		return 1;
	for (i = 0; i < iterations; i++) {
		long ret;
#if defined(__x86_64__)
		static const int regs[] = { 0, 1, 2, 3, 7, 7, 7, 6 };
		const uint64_t vals[] = {
			rnd(), rnd() & 0xffff00ff, (uintptr_t)&var[rnd() % 8],
			0xffffffff81000000ULL, rnd() & 0xff, 0,
		};

		ret = guest_poke_dr(pid, regs[rnd() % 8], PICK(vals));
#else
		struct user_hwdebug_state st;
		struct iovec iov = { .iov_base = &st };
		int r;

		memset(&st, 0, sizeof(st));
		for (r = 0; r < 16; r++) {
			st.dbg_regs[r].addr = rnd() % 2 ? (uintptr_t)&var[rnd() % 8] :
					      rnd();
			st.dbg_regs[r].ctrl = rnd();
		}
		iov.iov_len = rnd() % (sizeof(st) + 1);
		ret = ptrace(PTRACE_SETREGSET, pid,
			     (void *)(long)(rnd() % 2 ? NT_ARM_HW_WATCH : NT_ARM_HW_BREAK),
			     &iov);
#endif
		if (ret && errno != EINVAL && errno != EIO && errno != ENOSPC &&
		    errno != EPERM && errno != EFAULT) {
			if (bad++ < 5)
				tap_diag("ptrace write: errno %d", errno);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261129;
	long iterations = argc > 2 ? atol(argv[2]) : 100000;
	long opened = 0, bad;
	int status;
	pid_t pid;

	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	rng_state = seed | 1;
	tap_diag("seed %llu, %ld attrs as root and %ld as uid 65534",
		 (unsigned long long)seed, iterations / 2, iterations / 2);

	bad = fuzz_perf(iterations / 2, &opened);
	tap_ok(bad == 0, "root: %ld attrs, %ld opened, %ld undocumented errors",
	       iterations / 2, opened, bad);

	pid = fork();
	if (pid == 0) {
		long child_opened = 0;

		rng_state = (seed * 31) | 1;
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(fuzz_perf(iterations / 2, &child_opened) ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "uid 65534: %ld attrs, no undocumented error (status %#x)",
	       iterations / 2, status);

	bad = fuzz_ptrace(iterations / 10);
	tap_ok(bad == 0, "ptrace: %ld random debug-register writes, %ld undocumented errors",
	       iterations / 10, bad);

	guest_check_all_free();
	return tap_done();
}
