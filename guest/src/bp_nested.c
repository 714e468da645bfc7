// SPDX-License-Identifier: GPL-2.0
/*
 * Hits inside the handling of other hits, and steps that belong to more
 * than one owner:
 *
 *  - the nested-hit matrix: an outer event (sigtrap watchpoint, sigtrap
 *    execute breakpoint, ptrace watchpoint, counting watchpoint) whose
 *    handling runs code that hits an inner event (counting or sigtrap,
 *    watchpoint or execute breakpoint): the outer's SIGTRAP handler, the
 *    handler of the signal a tracer injects when it continues, or of a
 *    profiling timer. Every count is exact, there is exactly one signal
 *    per outer hit, and nothing loops (each case runs under a timeout);
 *  - an execute breakpoint on the system-call instruction itself, counting
 *    and sigtrap, on getpid() and on fork(): nobody is killed by SIGTRAP;
 *  - a tracer single-stepping a tracee stopped by the SIGTRAP of the
 *    tracee's own sigtrap breakpoint: the step stops one instruction
 *    later (rr issue #4100), and PTRACE_CONT goes on without re-trapping.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include "tap.h"
#include "hwbp_guest.h"

#define N		10	/* outer hits per case */
#define N_TIMED		20000	/* stores under the profiling timer, at most */
/*
 * ... and at least one, with the 1 ms timer's handler run at least once
 * meanwhile: what the case checks is that every store counts while the
 * handler's own hits nest between them, not how many fit in the time.
 * Under KASAN on a loaded host the handler and its nested trap take longer
 * than the timer's period, and 8 s held 23 stores, then 7 (every one
 * counted exactly): a larger floor measured the host.
 */
#define N_TIMED_MIN	1
#define TIMED_SECONDS	8	/* how long they may take */
#define CASE_TIMEOUT	10	/* seconds; a loop is a failure, not a hang */
/*
 * The profiling-timer cases make up to N_TIMED trapping stores, for at
 * most TIMED_SECONDS (a KASAN kernel on a busy host makes far fewer), and
 * every one of them must count: their alarm leaves room for the rest.
 */
#define TIMED_CASE_TIMEOUT	30
#define OUTER_COOKIE	0x0111UL
#define INNER_COOKIE	0x1222UL


/*
 * The watched variables, and an unwatched one on their page: a store to
 * it clears what QEMU's x86 emulation remembers of earlier watchpoint
 * hits (see scrub below).
 */
static volatile struct {
	uint64_t	var;
	char		pad1[120];
	uint64_t	other;
	char		pad2[120];
	uint64_t	scrub;
} page __attribute__((aligned(4096)));
#define var	page.var
#define other	page.other

/*
 * QEMU 7.2's x86 TCG sets DR6.Bn for every watchpoint whose "hit" flag is
 * still set, and clears the flag of a watchpoint only when an access to
 * its page matches none, or one listed after it (check_hw_breakpoints(),
 * cpu_check_watchpoint()). So with two watchpoints hit alternately, each
 * #DB also reports the other one, and the kernel, reading DR6, charges
 * both. The natural cases are declared in suites.txt; each is run again
 * with a store to an unwatched word of the page before and after the
 * handler's access, which clears the stale flags and changes nothing on
 * real hardware: those runs must be exact.
 */
static int scrub;

static noinline void outer_fn(void)
{
	asm volatile("" ::: "memory");
}

static noinline void inner_fn(void)
{
	asm volatile("" ::: "memory");
}

enum outer { O_SIG_W, O_SIG_X, O_PT_W, O_CNT_W, O_NR };
enum inner { I_CNT_W, I_CNT_X, I_SIG_W, I_SIG_X, I_NR };

static const char *const outer_name[O_NR] = {
	[O_SIG_W] = "sigtrap watchpoint",
	[O_SIG_X] = "sigtrap execute breakpoint",
	[O_PT_W] = "ptrace watchpoint",
	[O_CNT_W] = "counting watchpoint",
};

static const char *const inner_name[I_NR] = {
	[I_CNT_W] = "counting watchpoint",
	[I_CNT_X] = "counting execute breakpoint",
	[I_SIG_W] = "sigtrap watchpoint",
	[I_SIG_X] = "sigtrap execute breakpoint",
};

/* What a case's processes count, in memory they share. */
struct tally {
	int	outer_sigs;	/* SIGTRAPs carrying OUTER_COOKIE */
	int	inner_sigs;	/* SIGTRAPs carrying INNER_COOKIE */
	int	bad_sigs;	/* SIGTRAPs that are neither */
	int	actions;	/* inner accesses made by handlers */
	int	tracer_hits;	/* ptrace stops with TRAP_HWBKPT */
	long long outer_count, inner_count;
	int	stores;		/* outer stores made (O_CNT_W) */
	int	setup_errno;
	int	done;
};

static struct tally *tally;
static enum inner cur_inner;

/* The inner access, as handlers make it. */
static void inner_action(void)
{
	__atomic_fetch_add(&tally->actions, 1, __ATOMIC_RELAXED);
	if (scrub)
		page.scrub = 0;
	if (cur_inner == I_CNT_W || cur_inner == I_SIG_W)
		other = other + 1;
	else
		inner_fn();
	if (scrub)
		page.scrub = 0;
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	struct perf_siginfo info;

	(void)sig;
	(void)uc;
	memcpy(&info, si, sizeof(info));
	if (info.code == TRAP_PERF && info.data == OUTER_COOKIE) {
		__atomic_fetch_add(&tally->outer_sigs, 1, __ATOMIC_RELAXED);
		inner_action();
	} else if (info.code == TRAP_PERF && info.data == INNER_COOKIE) {
		__atomic_fetch_add(&tally->inner_sigs, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&tally->bad_sigs, 1, __ATOMIC_RELAXED);
	}
}

/* SIGUSR1 (injected by the tracer) and SIGPROF (the timer). */
static void on_other(int sig)
{
	(void)sig;
	inner_action();
}

static int open_event(const volatile void *addr, unsigned int type,
		      int sigtrap, unsigned long cookie)
{
	struct perf_event_attr attr = {
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.sigtrap = sigtrap,
		.remove_on_exec = sigtrap,
		.sig_data = cookie,
	};
	unsigned int len = type == HW_BREAKPOINT_X ? sizeof(long) : 8;

	return perf_bp_open((const void *)addr, type, len, 0, -1, &attr);
}

static int open_inner(enum inner in)
{
	switch (in) {
	case I_CNT_W: return open_event(&other, HW_BREAKPOINT_W, 0, 0);
	case I_CNT_X: return open_event(inner_fn, HW_BREAKPOINT_X, 0, 0);
	case I_SIG_W: return open_event(&other, HW_BREAKPOINT_W, 1, INNER_COOKIE);
	default:      return open_event(inner_fn, HW_BREAKPOINT_X, 1, INNER_COOKIE);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static noinline void outer_loop(enum outer out)
{
	double end = now() + TIMED_SECONDS;
	int i;

	for (i = 0; i < (out == O_CNT_W ? N_TIMED : N); i++) {
		if (out == O_CNT_W && now() > end)
			break;
		if (out == O_SIG_X)
			outer_fn();
		else
			var = i;
	}
	tally->stores = i;
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
	struct sigaction so = { .sa_handler = on_other };

	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGUSR1, &so, NULL);
	sigaction(SIGPROF, &so, NULL);
}

/* The traced process of an O_PT_W case: the tracer set the watchpoint. */
static void pt_tracee(void)
{
	int ifd = open_inner(cur_inner);

	if (ifd < 0) {
		tally->setup_errno = errno;
		return;
	}
	outer_loop(O_PT_W);
	tally->inner_count = perf_count(ifd);
	tally->done = 1;
}

static void pt_tracee_entry(void)
{
	alarm(CASE_TIMEOUT);	/* not inherited from the tracer */
	install_handlers();
	pt_tracee();
}

/*
 * The tracer of an O_PT_W case: counts the watchpoint's stops, steps over
 * each hit where the arch needs it (arm64: with the watchpoint disabled),
 * and continues with SIGUSR1, whose handler makes the inner access; the
 * tracee's own SIGTRAPs (the inner sigtrap events) are passed on.
 */
static int run_tracer(void)
{
	pid_t pid = guest_spawn_traced(pt_tracee_entry);
	int status, sig, code;

	if (pid < 0)
		return -1;
	if (guest_ptrace_watch(pid, (const void *)&var, 8, GUEST_WATCH_WRITE))
		return -1;
	if (ptrace(PTRACE_CONT, pid, 0, 0))
		return -1;
	while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
		sig = WSTOPSIG(status);
		code = sig == SIGTRAP ? guest_stop_code(pid) : 0;
		if (sig == SIGTRAP && code == TRAP_HWBKPT) {
			tally->tracer_hits++;
			if (guest_step_over_watch(pid, &var, 8))
				return -1;
			sig = SIGUSR1;
		}
		if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig))
			return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One case, in its own process: 0 when it ran to the end. */
static int run_case(enum outer out, enum inner in)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	int ofd = -1, ifd;

	cur_inner = in;
	install_handlers();
	if (out == O_PT_W)
		return run_tracer();

	ifd = open_inner(in);
	if (out == O_SIG_W)
		ofd = open_event(&var, HW_BREAKPOINT_W, 1, OUTER_COOKIE);
	else if (out == O_SIG_X)
		ofd = open_event(outer_fn, HW_BREAKPOINT_X, 1, OUTER_COOKIE);
	else
		ofd = open_event(&var, HW_BREAKPOINT_W, 0, 0);
	if (ifd < 0 || ofd < 0) {
		tally->setup_errno = errno;
		return -1;
	}
	if (out == O_CNT_W)
		setitimer(ITIMER_PROF, &it, NULL);
	outer_loop(out);
	if (out == O_CNT_W) {
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_PROF, &it, NULL);
	}
	tally->outer_count = perf_count(ofd);
	tally->inner_count = perf_count(ifd);
	tally->done = 1;
	return 0;
}

static void check_case(enum outer out, enum inner in)
{
	const char *inn = inner_name[in];
	char on[96];
	int status, outer_ok, inner_ok;
	long long inner_got, outer_got;
	pid_t pid;

	snprintf(on, sizeof(on), "%s%s", scrub ? "scrubbed: " : "",
		 outer_name[out]);
	memset(tally, 0, sizeof(*tally));
	pid = fork();
	if (pid == 0) {
		alarm(out == O_CNT_W ? TIMED_CASE_TIMEOUT : CASE_TIMEOUT);
		_exit(run_case(out, in) ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		tap_ok(0, "%s, inner %s: fork/wait failed", on, inn);
		return;
	}
	if (!tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && tally->done,
		    "%s, inner %s: runs to the end (%s %d, setup errno %d)",
		    on, inn, WIFSIGNALED(status) ? "killed by signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		    tally->setup_errno))
		return;

	switch (out) {
	case O_SIG_W:
	case O_SIG_X:
		outer_got = tally->outer_sigs;
		outer_ok = outer_got == N;
		break;
	case O_PT_W:
		outer_got = tally->tracer_hits;
		outer_ok = outer_got == N;
		break;
	default:
		outer_got = tally->outer_count;
		outer_ok = outer_got == tally->stores &&
			   tally->stores >= N_TIMED_MIN && tally->actions > 0;
		break;
	}
	inner_got = in == I_SIG_W || in == I_SIG_X ? tally->inner_sigs :
		    tally->inner_count;
	inner_ok = inner_got == tally->actions && !tally->bad_sigs &&
		   (out == O_CNT_W || tally->actions == N);
	tap_ok(outer_ok, "%s, inner %s: outer %lld for %d hits", on, inn,
	       outer_got, out == O_CNT_W ? tally->stores : N);
	tap_ok(inner_ok,
	       "%s, inner %s: inner %lld for %d handler accesses (%d unexpected SIGTRAPs)",
	       on, inn, inner_got, tally->actions, tally->bad_sigs);
}

/*
 * A system call through an instruction with a label of its own, so that
 * an execute breakpoint can sit on it: getpid() and a fork().
 */
extern char svc_insn[];

static noinline long labelled_syscall(long nr, long a0)
{
#if defined(__aarch64__)
	register long x8 asm("x8") = nr;
	register long x0 asm("x0") = a0;
	register long x1 asm("x1") = 0;

	asm volatile(".globl svc_insn\nsvc_insn:\n\tsvc #0"
		     : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
	return x0;
#else
	long ret;

	asm volatile(".globl svc_insn\nsvc_insn:\n\tsyscall"
		     : "=a"(ret) : "a"(nr), "D"(a0), "S"(0L)
		     : "rcx", "r11", "memory");
	return ret;
#endif
}

static long labelled_fork(void)
{
#if defined(__aarch64__)
	return labelled_syscall(SYS_clone, SIGCHLD);
#else
	return labelled_syscall(SYS_fork, 0);
#endif
}

static volatile int svc_sigs;

static void on_svc_trap(int sig)
{
	(void)sig;
	svc_sigs++;
}

/* 0, or why not; run in a child so that a SIGTRAP kill shows. */
static int svc_child(int sigtrap, int do_fork)
{
	struct sigaction sa = { .sa_handler = on_svc_trap };
	int fd, i, status, children_ok = 1;
	long long count;
	long ret;

	sigaction(SIGTRAP, &sa, NULL);
	fd = open_event(svc_insn, HW_BREAKPOINT_X, sigtrap, OUTER_COOKIE);
	if (fd < 0)
		return 10;
	for (i = 0; i < N; i++) {
		if (!do_fork) {
			ret = labelled_syscall(SYS_getpid, 0);
			if (ret != getpid())
				return 11;
			continue;
		}
		ret = labelled_fork();
		if (ret == 0)
			_exit(0);
		if (ret < 0 || waitpid(ret, &status, 0) != ret)
			return 12;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			children_ok = 0;
	}
	if (!children_ok)
		return 13;
	count = perf_count(fd);
	if (sigtrap ? svc_sigs != N : count != N)
		return 14;
	return 0;
}

static void test_svc(int sigtrap, int do_fork)
{
	static const char *const why[] = {
		[10] = "the breakpoint does not open",
		[11] = "the system call returned a wrong value",
		[12] = "fork failed",
		[13] = "a forked child died (SIGTRAP?)",
		[14] = "the count is wrong",
	};
	int status, code;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(CASE_TIMEOUT);
		_exit(svc_child(sigtrap, do_fork));
	}
	waitpid(pid, &status, 0);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	tap_ok(code == 0,
	       "%s execute breakpoint on the system-call instruction of %s: %d calls, %s",
	       sigtrap ? "sigtrap" : "counting", do_fork ? "fork()" : "getpid()",
	       N, code == 0 ? "exact, nobody killed" :
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
	       code >= 10 && code <= 14 ? why[code] : "failed");
}

static unsigned long tracee_pc(pid_t pid)
{
#if defined(__aarch64__)
	struct user_pt_regs regs;
	struct iovec iov = { .iov_base = &regs, .iov_len = sizeof(regs) };

	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov))
		return 0;
	return regs.pc;
#else
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs))
		return 0;
	return regs.rip;
#endif
}

/* One instruction past @from, a NOP: 4 bytes on arm64, 1 on x86. */
static int one_insn_later(unsigned long pc, unsigned long from)
{
#if defined(__aarch64__)
	return pc == from + 4;
#else
	return pc == from + 1;
#endif
}

/*
 * The function the tracer steps into: its first instruction is a NOP, so
 * that one instruction later is the next address (a RET would leave it).
 */
void step_fn(void);
asm(".pushsection .text\n"
    ".globl step_fn\n"
    ".type step_fn, %function\n"
    "step_fn:\n"
    "	nop\n"
    "	ret\n"
    ".size step_fn, . - step_fn\n"
    ".popsection\n");

static void step_tracee(void)
{
	int fd = open_event(step_fn, HW_BREAKPOINT_X, 1, OUTER_COOKIE), i;

	alarm(CASE_TIMEOUT);
	if (fd < 0)
		_exit(10);
	for (i = 0; i < N; i++)
		step_fn();
	_exit(0);
}

/*
 * The tracee's own sigtrap breakpoint stops it (the SIGTRAP goes to the
 * tracer first). The tracer suppresses the signal and either single-steps
 * (@step: the tracee must stop one instruction later, then is continued)
 * or continues: N perf stops in all, each step stop one instruction on.
 */
static void test_step_after_perf_stop(int step)
{
	pid_t pid = guest_spawn_traced(step_tracee);
	int status, perf_stops = 0, good_steps = 0, other_stops = 0, code;
	unsigned long pc;

	if (!tap_ok(pid > 0, "tracee for PTRACE_%s after a perf stop starts",
		    step ? "SINGLESTEP" : "CONT"))
		return;
	ptrace(PTRACE_CONT, pid, 0, 0);
	while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
		code = WSTOPSIG(status) == SIGTRAP ? guest_stop_code(pid) : 0;
		if (code != TRAP_PERF || perf_stops >= 2 * N) {
			other_stops++;
			ptrace(PTRACE_CONT, pid, 0,
			       (void *)(long)(WSTOPSIG(status) == SIGTRAP ? 0 :
					      WSTOPSIG(status)));
			continue;
		}
		perf_stops++;
		pc = tracee_pc(pid);
		if (!step) {
			ptrace(PTRACE_CONT, pid, 0, 0);
			continue;
		}
		ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
		if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
			break;
		code = WSTOPSIG(status) == SIGTRAP ? guest_stop_code(pid) : 0;
		if (WSTOPSIG(status) == SIGTRAP && code != TRAP_PERF &&
		    one_insn_later(tracee_pc(pid), pc))
			good_steps++;
		else if (perf_stops == 1)
			tap_diag("the step stopped with signal %d, si_code %d, at %#lx (from %#lx)",
				 WSTOPSIG(status), code, tracee_pc(pid), pc);
		ptrace(PTRACE_CONT, pid, 0, 0);
	}
	if (!WIFEXITED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       perf_stops == N && other_stops == 0 &&
	       (!step || good_steps == N),
	       "PTRACE_%s after the tracee's own sigtrap breakpoint stopped it: %d perf stops for %d calls, %d steps ending one instruction later, %d other stops",
	       step ? "SINGLESTEP" : "CONT", perf_stops, N, good_steps,
	       other_stops);
}

int main(void)
{
	enum outer out;
	enum inner in;

	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));

	for (out = 0; out < O_NR; out++)
		for (in = 0; in < I_NR; in++)
			check_case(out, in);
#if defined(__x86_64__)
	/* Two watchpoints, hit alternately: again, with QEMU's flags cleared. */
	scrub = 1;
	for (out = 0; out < O_NR; out++) {
		if (out == O_SIG_X)
			continue;
		check_case(out, I_CNT_W);
		check_case(out, I_SIG_W);
	}
	scrub = 0;
#endif

	test_svc(0, 0);
	test_svc(1, 0);
	test_svc(0, 1);
	test_svc(1, 1);

	test_step_after_perf_stop(1);
	test_step_after_perf_stop(0);
	return tap_done();
}
