// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 backend seen from user space:
 *
 *  - the boot line's register counts equal what ptrace reports;
 *  - NT_ARM_HW_WATCH: loads and stores of 1 to 32 bytes (ldr/str of each
 *    size, ldp/stp of x and q pairs) at every offset around a watched
 *    range stop the tracee with SIGTRAP/TRAP_HWBKPT exactly when the
 *    access overlaps a watched byte of the right type, never otherwise;
 *  - NT_ARM_HW_BREAK: a breakpoint stops once per call, at the function;
 *  - a debugger's hit is not stepped over by the kernel (the ptrace ABI:
 *    continuing without disabling the watchpoint traps again);
 *  - a CPU-wide kernel execute breakpoint counts each syscall exactly
 *    once, timer interrupts between the hit and its step included.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT	4
#endif

/* The accesses the tracee makes: one instruction each. */
enum access {
	ACC_B, ACC_H, ACC_W, ACC_X, ACC_XPAIR, ACC_Q, ACC_QPAIR, ACC_NR,
};

static const struct {
	const char *name;
	int size;
} accesses[ACC_NR] = {
	[ACC_B] = { "b", 1 },
	[ACC_H] = { "h", 2 },
	[ACC_W] = { "w", 4 },
	[ACC_X] = { "x", 8 },
	[ACC_XPAIR] = { "x pair", 16 },
	[ACC_Q] = { "q", 16 },
	[ACC_QPAIR] = { "q pair", 32 },
};

static noinline void do_store(volatile char *p, enum access a)
{
	switch (a) {
	case ACC_B: asm volatile("strb wzr, [%0]" : : "r"(p) : "memory"); break;
	case ACC_H: asm volatile("strh wzr, [%0]" : : "r"(p) : "memory"); break;
	case ACC_W: asm volatile("str wzr, [%0]" : : "r"(p) : "memory"); break;
	case ACC_X: asm volatile("str xzr, [%0]" : : "r"(p) : "memory"); break;
	case ACC_XPAIR:
		asm volatile("stp xzr, xzr, [%0]" : : "r"(p) : "memory");
		break;
	case ACC_Q:
		asm volatile("movi v0.16b, #0\n\tstr q0, [%0]"
			     : : "r"(p) : "memory", "v0");
		break;
	case ACC_QPAIR:
		asm volatile("movi v0.16b, #0\n\tstp q0, q0, [%0]"
			     : : "r"(p) : "memory", "v0");
		break;
	default:
		break;
	}
}

static noinline void do_load(volatile char *p, enum access a)
{
	switch (a) {
	case ACC_B: asm volatile("ldrb w9, [%0]" : : "r"(p) : "memory", "x9"); break;
	case ACC_H: asm volatile("ldrh w9, [%0]" : : "r"(p) : "memory", "x9"); break;
	case ACC_W: asm volatile("ldr w9, [%0]" : : "r"(p) : "memory", "x9"); break;
	case ACC_X: asm volatile("ldr x9, [%0]" : : "r"(p) : "memory", "x9"); break;
	case ACC_XPAIR:
		asm volatile("ldp x9, x10, [%0]" : : "r"(p) : "memory", "x9", "x10");
		break;
	case ACC_Q:
		asm volatile("ldr q0, [%0]" : : "r"(p) : "memory", "v0");
		break;
	case ACC_QPAIR:
		asm volatile("ldp q0, q1, [%0]" : : "r"(p) : "memory", "v0", "v1");
		break;
	default:
		break;
	}
}

/* The watched bytes sit at WATCH_BASE + offset in a 64-byte aligned buffer. */
#define WATCH_BASE	64
static volatile char buf[192] __attribute__((aligned(64)));

struct watch_cfg {
	int off, len;
	unsigned int lsc;	/* GUEST_CTRL_LSC_* */
};

static const struct watch_cfg watch_cfgs[] = {
	{ 0, 8, GUEST_CTRL_LSC_STORE },
	{ 3, 1, GUEST_CTRL_LSC_STORE },
	{ 5, 2, GUEST_CTRL_LSC_LOAD },
	{ 4, 4, GUEST_CTRL_LSC_LOAD | GUEST_CTRL_LSC_STORE },
};

#define NR_CFGS		((int)(sizeof(watch_cfgs) / sizeof(watch_cfgs[0])))
#define MAX_CASES	4096

/* One access of the sweep: the child runs them in order, the parent checks. */
struct sweep_case {
	short cfg, store;
	enum access acc;
	int start;		/* offset of the access in buf */
};

static struct sweep_case cases[MAX_CASES];
static int nr_cases;

static void build_cases(void)
{
	int c, store, a, start, lo, hi;

	for (c = 0; c < NR_CFGS; c++) {
		lo = WATCH_BASE + watch_cfgs[c].off;
		hi = lo + watch_cfgs[c].len - 1;
		for (store = 0; store < 2; store++) {
			for (a = 0; a < ACC_NR; a++) {
				for (start = lo - accesses[a].size - 2;
				     start <= hi + 2; start++) {
					cases[nr_cases++] = (struct sweep_case){
						c, store, a, start };
				}
			}
		}
	}
}

static void sweep_child(void)
{
	int i;

	for (i = 0; i < nr_cases; i++) {
		raise(SIGSTOP);
		if (cases[i].store)
			do_store(buf + cases[i].start, cases[i].acc);
		else
			do_load(buf + cases[i].start, cases[i].acc);
	}
}

static int set_watch(pid_t pid, const struct watch_cfg *w, int enable)
{
	struct user_hwdebug_state st;
	unsigned int bas = ((1U << w->len) - 1) << w->off;

	memset(&st, 0, sizeof(st));
	st.dbg_regs[0].addr = (uintptr_t)(buf + WATCH_BASE);
	st.dbg_regs[0].ctrl = (enable ? GUEST_CTRL_ENABLE : 0) |
			      GUEST_CTRL_PRIV_EL0 |
			      w->lsc << GUEST_CTRL_LSC_SHIFT |
			      bas << GUEST_CTRL_BAS_SHIFT;
	return guest_regset(pid, NT_ARM_HW_WATCH, 1, &st);
}

static int case_overlaps(const struct sweep_case *k)
{
	const struct watch_cfg *w = &watch_cfgs[k->cfg];
	int lo = WATCH_BASE + w->off, hi = lo + w->len - 1;
	int end = k->start + accesses[k->acc].size - 1;
	unsigned int want = k->store ? GUEST_CTRL_LSC_STORE : GUEST_CTRL_LSC_LOAD;

	return (w->lsc & want) && k->start <= hi && end >= lo;
}

/* Step the stopped tracee over its trapping instruction, as gdb does. */
static int step_over(pid_t pid, const struct watch_cfg *w)
{
	int status;

	if (set_watch(pid, w, 0) ||
	    ptrace(PTRACE_SINGLESTEP, pid, 0, 0) ||
	    waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
	    WSTOPSIG(status) != SIGTRAP)
		return -1;
	return set_watch(pid, w, 1);
}

static void test_sweep(void)
{
	/* Per (config, direction, access): cases wrong, and the first one. */
	static int wrong[NR_CFGS][2][ACC_NR], first[NR_CFGS][2][ACC_NR];
	static int hits[MAX_CASES];
	int i = -1, status, c, s, a, bad_addr = 0, errors = 0;
	siginfo_t si;
	pid_t pid;

	build_cases();
	pid = guest_spawn_traced(sweep_child);
	if (!tap_ok(pid > 0, "sweep: traced child starts"))
		return;

	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, 0) ||
		    waitpid(pid, &status, 0) != pid) {
			errors++;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WSTOPSIG(status) == SIGSTOP) {
			/* The child is about to run case i + 1. */
			if (++i >= nr_cases)
				break;
			if (set_watch(pid, &watch_cfgs[cases[i].cfg], 1))
				errors++;
			continue;
		}
		if (WSTOPSIG(status) != SIGTRAP || i < 0 ||
		    ptrace(PTRACE_GETSIGINFO, pid, 0, &si)) {
			errors++;
			break;
		}
		if (si.si_code == TRAP_HWBKPT) {
			uintptr_t at = (uintptr_t)si.si_addr;
			uintptr_t lo = (uintptr_t)(buf + cases[i].start);

			hits[i]++;
			if (at < lo || at >= lo + accesses[cases[i].acc].size) {
				if (bad_addr++ < 10)
					tap_diag("case %d: %s %s at buf+%d reported at buf+%ld",
						 i, cases[i].store ? "store" : "load",
						 accesses[cases[i].acc].name,
						 cases[i].start,
						 (long)(at - (uintptr_t)buf));
			}
		} else {
			errors++;
		}
		if (step_over(pid, &watch_cfgs[cases[i].cfg])) {
			errors++;
			break;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	tap_ok(errors == 0 && i >= nr_cases - 1,
	       "sweep: %d accesses run under ptrace (%d errors)", i + 1, errors);

	for (i = 0; i < nr_cases; i++) {
		const struct sweep_case *k = &cases[i];

		if (hits[i] == case_overlaps(k))
			continue;
		tap_diag("case %d: watch %d at +%d lsc %u, %s %s at %+d: %d hit(s), %d expected",
			 i, watch_cfgs[k->cfg].len, watch_cfgs[k->cfg].off,
			 watch_cfgs[k->cfg].lsc, k->store ? "store" : "load",
			 accesses[k->acc].name,
			 k->start - WATCH_BASE - watch_cfgs[k->cfg].off,
			 hits[i], case_overlaps(k));
		if (!wrong[k->cfg][k->store][k->acc]++)
			first[k->cfg][k->store][k->acc] = i;
	}
	for (c = 0; c < NR_CFGS; c++) {
		for (s = 1; s >= 0; s--) {
			for (a = 0; a < ACC_NR; a++) {
				const struct sweep_case *k =
					&cases[first[c][s][a]];

				tap_ok(!wrong[c][s][a],
				       "watch %d byte(s) at +%d (lsc %u), %s %s (%d bytes): SIGTRAP iff it overlaps (%d wrong, first at %+d)",
				       watch_cfgs[c].len, watch_cfgs[c].off,
				       watch_cfgs[c].lsc,
				       s ? "store" : "load", accesses[a].name,
				       accesses[a].size, wrong[c][s][a],
				       k->start - WATCH_BASE - watch_cfgs[c].off);
			}
		}
	}
	tap_ok(bad_addr == 0,
	       "sweep: every reported address lies in the access (%d outside)",
	       bad_addr);
}

static noinline int bp_target(int x)
{
	asm volatile("" : : : "memory");
	return x + 1;
}

#define CALLS	5

static void break_child(void)
{
	int i, v = 0;

	for (i = 0; i < CALLS; i++)
		v = bp_target(v);
	if (v != CALLS)
		_exit(3);
}

static void test_breakpoint(void)
{
	struct user_hwdebug_state st;
	int status, stops = 0, at_fn = 0, errors = 0;
	siginfo_t si;
	pid_t pid = guest_spawn_traced(break_child);

	if (!tap_ok(pid > 0, "breakpoint: traced child starts"))
		return;
	if (!tap_ok(guest_ptrace_watch(pid, (void *)bp_target, 4,
				       GUEST_WATCH_EXEC) == 0,
		    "NT_ARM_HW_BREAK: breakpoint set on a function"))
		goto out;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, 0) ||
		    waitpid(pid, &status, 0) != pid) {
			errors++;
			break;
		}
		if (!WIFSTOPPED(status))
			break;
		if (WSTOPSIG(status) != SIGTRAP ||
		    ptrace(PTRACE_GETSIGINFO, pid, 0, &si) ||
		    si.si_code != TRAP_HWBKPT) {
			errors++;
			break;
		}
		stops++;
		at_fn += si.si_addr == (void *)bp_target;
		/* Step over: disable, single-step, enable. */
		memset(&st, 0, sizeof(st));
		if (guest_regset(pid, NT_ARM_HW_BREAK, 1, &st) ||
		    ptrace(PTRACE_SINGLESTEP, pid, 0, 0) ||
		    waitpid(pid, &status, 0) != pid ||
		    guest_ptrace_watch(pid, (void *)bp_target, 4,
				       GUEST_WATCH_EXEC)) {
			errors++;
			break;
		}
	}
	tap_ok(!errors && stops == CALLS && at_fn == CALLS &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "NT_ARM_HW_BREAK: %d stops for %d calls, %d at the function, child status %#x",
	       stops, CALLS, at_fn, status);
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void store_child(void)
{
	do_store(buf + WATCH_BASE, ACC_X);
}

/* The kernel leaves a debugger's hit to the debugger: it traps again. */
static void test_debugger_steps(void)
{
	struct user_pt_regs regs[2];
	struct iovec iov;
	int status, n, ok = 1;
	pid_t pid = guest_spawn_traced(store_child);

	if (!tap_ok(pid > 0, "re-trap: traced child starts"))
		return;
	ok = set_watch(pid, &watch_cfgs[0], 1) == 0;
	for (n = 0; ok && n < 2; n++) {
		iov.iov_base = &regs[n];
		iov.iov_len = sizeof(regs[n]);
		ok = !ptrace(PTRACE_CONT, pid, 0, 0) &&
		     waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) &&
		     WSTOPSIG(status) == SIGTRAP &&
		     !ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov);
	}
	tap_ok(ok && regs[0].pc == regs[1].pc,
	       "a debugger's watchpoint, continued without a step, traps again at the same pc");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * "hw-breakpoint: N breakpoint and M watchpoint registers" from the log,
 * through /dev/kmsg, which starts at the oldest record kept (the guest's
 * init clears the syslog view with dmesg -c).
 */
static void test_register_counts(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	int brps = -1, wrps = -1, pb = -1, pw = -1;
	struct user_hwdebug_state st;
	char rec[2048], *msg;
	ssize_t n;
	pid_t pid;

	while (fd >= 0 && (n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten: read on */
				continue;
			break;
		}
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (msg && sscanf(msg + 1, "hw-breakpoint: %d breakpoint and %d watchpoint",
				  &brps, &wrps) == 2)
			break;
	}
	if (fd >= 0)
		close(fd);
	pid = guest_spawn_traced(guest_idle);
	if (pid > 0) {
		if (!guest_regset(pid, NT_ARM_HW_BREAK, 0, &st))
			pb = GUEST_DBG_INFO_SLOTS(st.dbg_info);
		if (!guest_regset(pid, NT_ARM_HW_WATCH, 0, &st))
			pw = GUEST_DBG_INFO_SLOTS(st.dbg_info);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	tap_ok(brps > 0 && brps == pb && wrps == pw,
	       "boot line: %d breakpoint and %d watchpoint registers; ptrace: %d and %d",
	       brps, wrps, pb, pw);
}

#define SYSCALLS	20000

/*
 * A kernel breakpoint on the getppid() syscall, bound to CPU 0, with this
 * thread pinned there: every call counts once. The loop is long enough for
 * timer interrupts to land between hits and their steps.
 */
static void test_kernel_exec(void)
{
	unsigned long fn = guest_kallsyms("__arm64_sys_getppid");
	struct perf_event_attr attr = { .sample_period = 1 };
	long long before, after;
	cpu_set_t set;
	int fd, i;

	if (!tap_ok(fn != 0, "kallsyms: __arm64_sys_getppid at %#lx", fn))
		return;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (!tap_ok(sched_setaffinity(0, sizeof(set), &set) == 0,
		    "pinned to CPU 0"))
		return;
	fd = perf_bp_open((void *)fn, HW_BREAKPOINT_X, 4, -1, 0, &attr);
	if (!tap_ok(fd >= 0, "CPU-wide kernel execute breakpoint opens (errno %d)",
		    errno))
		return;
	before = perf_count(fd);
	for (i = 0; i < SYSCALLS; i++)
		syscall(SYS_getppid);
	after = perf_count(fd);
	tap_ok(after - before == SYSCALLS,
	       "kernel execute breakpoint: %lld hits for %d getppid() calls",
	       after - before, SYSCALLS);

	/* A per-task kernel breakpoint is refused: the kernel steps per CPU. */
	i = perf_bp_open((void *)fn, HW_BREAKPOINT_X, 4, 0, -1, &attr);
	tap_ok(i < 0 && errno == EINVAL,
	       "per-task kernel breakpoint: EINVAL (fd %d, errno %d)", i, errno);
	if (i >= 0)
		close(i);
	close(fd);
	CPU_ZERO(&set);
	for (i = 0; i < (int)sysconf(_SC_NPROCESSORS_ONLN); i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * ptrace's watchpoints stay one register each, BAS-only: with every pair
 * but the first taken, a first one whose DBGWVR and BAS reach across an
 * 8-byte granule gets EINVAL (this kernel) or is taken as one register
 * (6.12, which shifts BAS past the granule), never ENOSPC, which would
 * mean it was made a range watchpoint of two MASK blocks.
 */
static void test_ptrace_one_pair(void)
{
	struct user_hwdebug_state st;
	struct iovec iov = { .iov_base = &st };
	int slots = -1, i, err = -1, first = -1;
	pid_t pid = guest_spawn_traced(guest_idle);

	if (pid > 0 && !guest_regset(pid, NT_ARM_HW_WATCH, 0, &st))
		slots = GUEST_DBG_INFO_SLOTS(st.dbg_info);
	if (slots >= 2) {
		memset(&st, 0, sizeof(st));
		for (i = 1; i < slots; i++) {
			st.dbg_regs[i].addr = (uintptr_t)(buf + 8 * i);
			st.dbg_regs[i].ctrl = GUEST_CTRL_ENABLE |
					      GUEST_CTRL_PRIV_EL0 |
					      GUEST_CTRL_LSC_STORE << GUEST_CTRL_LSC_SHIFT |
					      0xffU << GUEST_CTRL_BAS_SHIFT;
		}
		iov.iov_len = offsetof(struct user_hwdebug_state, dbg_regs[slots]);
		first = ptrace(PTRACE_SETREGSET, pid, (void *)NT_ARM_HW_WATCH, &iov) ?
			errno : 0;
		memset(&st.dbg_regs[0], 0, sizeof(st.dbg_regs[0]));
		st.dbg_regs[0].addr = (uintptr_t)(buf + WATCH_BASE + 6);
		st.dbg_regs[0].ctrl = GUEST_CTRL_ENABLE | GUEST_CTRL_PRIV_EL0 |
				      GUEST_CTRL_LSC_STORE << GUEST_CTRL_LSC_SHIFT |
				      0xfU << GUEST_CTRL_BAS_SHIFT;
		err = -guest_regset(pid, NT_ARM_HW_WATCH, 1, &st);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	tap_ok(slots >= 2 && !first && (err == 0 || err == EINVAL),
	       "ptrace: %d watchpoints set, then one across an 8-byte granule: errno %d (0 or EINVAL, never ENOSPC: ptrace's stay one register)",
	       slots - 1, err);
}

int main(void)
{
	test_register_counts();
	test_ptrace_one_pair();
	test_breakpoint();
	test_debugger_steps();
	test_sweep();
	test_kernel_exec();
	guest_check_all_free();
	return tap_done();
}
