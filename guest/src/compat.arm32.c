// SPDX-License-Identifier: GPL-2.0
/*
 * AArch32 (compat) processes on the arm64 kernel, and the same program on
 * 32-bit arm's own kernel (its ptrace suite): a 32-bit static program
 * (built with arm-linux-gnueabihf-gcc) debugging a child of its own.
 *
 *  - PTRACE_GETHBPREGS 0: the resource word (breakpoint and watchpoint
 *    counts, 8-byte watchpoints);
 *  - PTRACE_SETHBPREGS breakpoints on an A32 function and on a T32 one
 *    (its first instruction a 16-bit PUSH that moves SP): one stop per
 *    call at the function, stepped over by the tracer;
 *  - a PTRACE_SETHBPREGS write watchpoint: one stop per store, si_addr in
 *    the watched word;
 *  - perf events in the 32-bit process itself: counting execute
 *    breakpoints on the A32 and T32 functions and a counting watchpoint
 *    count every execution exactly (the step over a 16-bit instruction
 *    is two bytes long, not four), and a sigtrap breakpoint on the T32
 *    function signals once per call.
 */
#include <sys/utsname.h>
#include "tap.h"
#include "hwbp_guest.h"

#define N			20

/*
 * DBGBCR/DBGWCR fields and PTRACE_[GS]ETHBPREGS register numbers: the
 * guest header's 32-bit arm helpers.
 */
#define CTRL_ENABLE		GUEST_CTRL_ENABLE
#define CTRL_PRIV_USER		GUEST_CTRL_PRIV_USER
#define CTRL_LSC_STORE		(GUEST_CTRL_LSC_STORE << GUEST_CTRL_LSC_SHIFT)
#define CTRL_BAS(bas)		((unsigned int)(bas) << GUEST_CTRL_BAS_SHIFT)
#define BP_ADDR(i)		GUEST_HBP_BP_ADDR(i)
#define BP_CTRL(i)		GUEST_HBP_BP_CTRL(i)
#define WP_ADDR(i)		GUEST_HBP_WP_ADDR(i)
#define WP_CTRL(i)		GUEST_HBP_WP_CTRL(i)
/* The CPSR's T32 state bit. */
#define CPSR_T			(1U << 5)

static volatile uint32_t var __attribute__((aligned(8)));
static volatile uint32_t sink;

/* An A32 function; its first instruction is 4 bytes. */
void arm_fn(void);
__attribute__((target("arm"))) noinline void arm_fn(void)
{
	asm volatile("nop" ::: "memory");
}

/*
 * A T32 function that starts with a 16-bit PUSH {r7, lr}: it moves SP, so
 * a step over it that expected 4 bytes would take it for a diversion.
 */
void thumb_fn(void);
void thumb2_fn(void);
asm(".text\n"
    ".syntax unified\n"
    ".thumb\n"
    /* On a word: the T32 ptrace case gives BAS 0x3 at the word. */
    ".balign 4\n"
    ".globl thumb_fn\n"
    ".type thumb_fn, %function\n"
    ".thumb_func\n"
    "thumb_fn:\n"
    "	push	{r7, lr}\n"
    "	nop\n"
    "	pop	{r7, pc}\n"
    ".size thumb_fn, . - thumb_fn\n"
    /* A T32 function on a halfword boundary, a 32-bit instruction first. */
    ".balign 4\n"
    "	nop\n"
    ".globl thumb2_fn\n"
    ".type thumb2_fn, %function\n"
    ".thumb_func\n"
    "thumb2_fn:\n"
    "	push.w	{r4, lr}\n"
    "	pop.w	{r4, pc}\n"
    ".size thumb2_fn, . - thumb2_fn\n"
#ifdef __thumb__
    ".thumb\n"		/* back to the compiler's state */
#else
    ".arm\n"
#endif
    );

static uintptr_t code_addr(void (*fn)(void))
{
	return (uintptr_t)fn & ~(uintptr_t)1;	/* the Thumb bit */
}

static noinline void stores(void)
{
	int i;

	for (i = 0; i < N; i++)
		var = i;
}

static void calls(void)
{
	int i;

	for (i = 0; i < N; i++) {
		arm_fn();
		thumb_fn();
		thumb2_fn();
	}
}

static long long perf_open(uintptr_t addr, unsigned int type,
			   unsigned int len, int sigtrap)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = type;
	attr.bp_addr = addr;
	attr.bp_len = len;
	attr.sample_period = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	attr.sigtrap = sigtrap;
	attr.remove_on_exec = sigtrap;
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static long long count(int fd)
{
	long long v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : -1;
}

static void test_perf_counts(void)
{
	int afd = perf_open(code_addr(arm_fn), HW_BREAKPOINT_X, 4, 0);
	int tfd = perf_open(code_addr(thumb_fn), HW_BREAKPOINT_X, 2, 0);
	int wfd = perf_open((uintptr_t)&var, HW_BREAKPOINT_W, 4, 0);
	int t2fd = perf_open(code_addr(thumb2_fn), HW_BREAKPOINT_X, 4, 0);
	/* thumb_fn's POP {r7, pc}: its step moves both PC and SP. */
	int pfd = perf_open(code_addr(thumb_fn) + 4, HW_BREAKPOINT_X, 2, 0);
	long long a, t, w, t2, pop;

	if (!tap_ok(afd >= 0 && tfd >= 0 && wfd >= 0 && t2fd >= 0 && pfd >= 0,
		    "perf: A32 and T32 execute breakpoints and a watchpoint open (errno %d)",
		    errno))
		return;
	calls();
	stores();
	a = count(afd);
	t = count(tfd);
	w = count(wfd);
	t2 = count(t2fd);
	pop = count(pfd);
	tap_ok(a == N, "perf: A32 execute breakpoint counts %lld for %d calls", a, N);
	tap_ok(t == N, "perf: T32 execute breakpoint (16-bit PUSH) counts %lld for %d calls",
	       t, N);
	tap_ok(t2 == N,
	       "perf: 4-byte breakpoint on a 32-bit T32 instruction at 2 mod 4 counts %lld for %d calls",
	       t2, N);
	tap_ok(pop == N, "perf: breakpoint on a T32 POP {r7, pc} counts %lld for %d returns",
	       pop, N);
	tap_ok(w == N, "perf: watchpoint counts %lld for %d stores", w, N);
	/* No instruction starts on an odd address (BAS 0b0110 is reserved). */
	tap_ok(perf_open(code_addr(thumb_fn) + 1, HW_BREAKPOINT_X, 2, 0) < 0 &&
	       errno == EINVAL,
	       "perf: a 2-byte breakpoint at an odd address is EINVAL (errno %d)",
	       errno);
	close(afd);
	close(tfd);
	close(wfd);
	close(t2fd);
	close(pfd);
}

static volatile int traps;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == TRAP_PERF)
		traps++;
}

static void test_perf_sigtrap(void)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
	int fd, i;

	sigaction(SIGTRAP, &sa, NULL);
	fd = perf_open(code_addr(thumb_fn), HW_BREAKPOINT_X, 2, 1);
	if (!tap_ok(fd >= 0, "perf: sigtrap T32 breakpoint opens (errno %d)", errno))
		return;
	traps = 0;
	for (i = 0; i < N; i++)
		thumb_fn();
	tap_ok(traps == N, "perf: sigtrap T32 breakpoint: %d signals for %d calls",
	       traps, N);
	close(fd);
}

static pid_t spawn(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		fn();
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	return pid;
}

#define sethbp(pid, num, val)	guest_hbp_set(pid, num, val)

static uint32_t tracee_pc(pid_t pid)
{
	struct user_regs regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs))
		return 0;
	return regs.uregs[15];
}

/* 32-bit arm's own kernel, not arm64's compat: uname says armv7. */
static int native_arm;

/*
 * Step a stopped tracee over one instruction that does not branch. The
 * arm64 kernel steps an AArch32 task with PTRACE_SINGLESTEP; 32-bit arm's
 * ptrace has no single-step (debuggers step in software), so there the
 * step is breakpoint 1 on the next instruction: 2 or 4 bytes on from the
 * PC in T32 (a first halfword of 0b11101, 0b11110 or 0b11111 starts a
 * 32-bit instruction), 4 in A32. 0, or -1 if it did not stop there.
 */
static int step(pid_t pid)
{
	struct user_regs regs;
	uint32_t pc, next, first, ctrl;
	int status, len = 4;

	if (!native_arm)
		return ptrace(PTRACE_SINGLESTEP, pid, 0, 0) ||
		       waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ? -1 : 0;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs))
		return -1;
	pc = regs.uregs[15];
	if (regs.uregs[16] & CPSR_T) {
		errno = 0;
		first = (uint32_t)ptrace(PTRACE_PEEKTEXT, pid, (void *)(uintptr_t)(pc & ~3U), 0);
		if (errno)
			return -1;
		first = pc & 2 ? first >> 16 : first & 0xffff;
		len = (first >> 11) >= 0x1d ? 4 : 2;
	}
	next = pc + len;
	/*
	 * In T32 a breakpoint on the first halfword stops any instruction:
	 * arm refuses 4 bytes at 2 mod 4, and this is what gdb asks.
	 */
	ctrl = CTRL_PRIV_USER | CTRL_BAS(regs.uregs[16] & CPSR_T ? 0x3 : 0xf);
	/*
	 * The length before the address: a new register is 4 bytes long,
	 * and arm refuses 4 bytes at 2 mod 4.
	 */
	if (sethbp(pid, BP_CTRL(1), ctrl) || sethbp(pid, BP_ADDR(1), next) ||
	    sethbp(pid, BP_CTRL(1), ctrl | CTRL_ENABLE)) {
		printf("# step: breakpoint 1 at %#x refused (errno %d)\n", next,
		       errno);
		return -1;
	}
	if (ptrace(PTRACE_CONT, pid, 0, 0) ||
	    waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
	    sethbp(pid, BP_CTRL(1), ctrl))
		return -1;
	if (tracee_pc(pid) != next) {
		printf("# step: from %#x, stopped at %#x, not %#x (signal %d)\n",
		       pc, tracee_pc(pid), next, WSTOPSIG(status));
		return -1;
	}
	return 0;
}

/*
 * Run @pid to its end with register @num's control @ctrl enabled: count
 * the TRAP_HWBKPT stops at @where (0: any; for a watchpoint, si_addr must
 * be in the watched word) and step over each with the register disabled.
 */
static int run_traced(pid_t pid, long ctrl_num, uint32_t ctrl, uintptr_t where,
		      int watch, int *bad)
{
	int status, stops = 0;
	siginfo_t si;

	*bad = 0;
	ptrace(PTRACE_CONT, pid, 0, 0);
	while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
		if (WSTOPSIG(status) != SIGTRAP ||
		    ptrace(PTRACE_GETSIGINFO, pid, 0, &si) ||
		    si.si_code != TRAP_HWBKPT) {
			(*bad)++;
			ptrace(PTRACE_CONT, pid, 0, 0);
			continue;
		}
		stops++;
		if (watch ? ((uintptr_t)si.si_addr & ~3U) != where :
			    tracee_pc(pid) != where)
			(*bad)++;
		/* Off, with the rest kept: arm refuses a control of 0 (no BAS). */
		sethbp(pid, ctrl_num, ctrl & ~CTRL_ENABLE);
		if (step(pid)) {
			(*bad)++;
			break;
		}
		sethbp(pid, ctrl_num, ctrl);
		ptrace(PTRACE_CONT, pid, 0, 0);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		(*bad)++;
	return stops;
}

static void test_ptrace_break(const char *what, void (*fn)(void), unsigned int bas)
{
	uintptr_t addr = code_addr(fn);
	uint32_t ctrl = CTRL_ENABLE | CTRL_PRIV_USER | CTRL_BAS(bas);
	pid_t pid = spawn(calls);
	int stops, bad;

	if (!tap_ok(pid > 0, "ptrace: %s tracee starts", what))
		return;
	/* BAS 0xf: the address as is, as gdb writes it; else the word. */
	if (!tap_ok(!sethbp(pid, BP_ADDR(0), bas == 0xf ? addr : addr & ~3U) &&
		    !sethbp(pid, BP_CTRL(0), ctrl),
		    "ptrace: PTRACE_SETHBPREGS %s breakpoint (errno %d)", what, errno)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	stops = run_traced(pid, BP_CTRL(0), ctrl, addr, 0, &bad);
	tap_ok(stops == N && !bad,
	       "ptrace: %s breakpoint stops %d times at the function for %d calls (%d bad)",
	       what, stops, N, bad);
}

static void test_ptrace_watch(void)
{
	uint32_t ctrl = CTRL_ENABLE | CTRL_PRIV_USER | CTRL_LSC_STORE | CTRL_BAS(0xf);
	pid_t pid = spawn(stores);
	int stops, bad;

	if (!tap_ok(pid > 0, "ptrace: watchpoint tracee starts"))
		return;
	if (!tap_ok(!sethbp(pid, WP_ADDR(0), (uintptr_t)&var) &&
		    !sethbp(pid, WP_CTRL(0), ctrl),
		    "ptrace: PTRACE_SETHBPREGS write watchpoint (errno %d)", errno)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	stops = run_traced(pid, WP_CTRL(0), ctrl, (uintptr_t)&var, 1, &bad);
	tap_ok(stops == N && !bad,
	       "ptrace: watchpoint stops %d times for %d stores, si_addr in the word (%d bad)",
	       stops, N, bad);
}

static void idle(void)
{
}

static void test_resource_info(void)
{
	pid_t pid = spawn(idle);
	uint32_t info = 0;
	long ret;

	if (!tap_ok(pid > 0, "ptrace: idle tracee starts"))
		return;
	ret = ptrace(PTRACE_GETHBPREGS, pid, 0, &info);
	tap_ok(!ret && (info & 0xff) >= 2 && ((info >> 8) & 0xff) >= 2 &&
	       ((info >> 16) & 0xff) == 8,
	       "ptrace: resource word %#x: %u breakpoints, %u watchpoints, %u-byte watchpoints",
	       info, info & 0xff, (info >> 8) & 0xff, (info >> 16) & 0xff);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	struct utsname uts;

	native_arm = !uname(&uts) && !strncmp(uts.machine, "armv7", 5);
	test_resource_info();
	test_ptrace_break("A32", arm_fn, 0xf);
	test_ptrace_break("T32", thumb_fn,
			  code_addr(thumb_fn) & 2 ? 0xc : 0x3);
	/* gdb's request for a 32-bit T32 instruction: 4 bytes at 2 mod 4. */
	test_ptrace_break("T32 32-bit instruction at 2 mod 4", thumb2_fn, 0xf);
	test_ptrace_watch();
	test_perf_counts();
	test_perf_sigtrap();
	return tap_done();
}
