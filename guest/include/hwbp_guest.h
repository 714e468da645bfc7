/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest programs: opening breakpoint perf events and
 * programming a traced child's debug registers through each arch's ptrace
 * interface (x86: PTRACE_POKEUSER of DR0-DR3/DR7, arm64: the
 * NT_ARM_HW_BREAK / NT_ARM_HW_WATCH regsets, 32-bit arm:
 * PTRACE_SETHBPREGS).
 */
#ifndef HWBP_GUEST_H
#define HWBP_GUEST_H

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <linux/elf.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#define noinline __attribute__((noinline))

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT	4
#endif
#ifndef TRAP_PERF
#define TRAP_PERF	6
#endif

/*
 * The siginfo of a perf sigtrap. glibc's siginfo_t does not name the perf
 * fields; they follow si_addr (asm-generic/siginfo.h, _sigfault._perf).
 * The union after the three ints is pointer-aligned: a 64-bit arch pads.
 */
struct perf_siginfo {
	int		signo, err, code;
#if __SIZEOF_POINTER__ == 8
	int		pad;
#endif
	void		*addr;
	unsigned long	data;
	uint32_t	type, flags;
};

/*
 * What user space gets with perf's own overflow handler. 32-bit arm
 * refuses write-only watchpoints with it before ARMv8 debug (the fault
 * status cannot tell a load from a store), and CPU-bound breakpoints: its
 * step over a hit is a breakpoint of the task's. And under QEMU, which
 * implements no address-mismatch breakpoints, that step never ends, so a
 * counting watchpoint counts its first hit only (stock too). So there a
 * suite's write watchpoint is a read-write one (GUEST_PERF_WATCH), a
 * CPU's registers are checked from a task bound to it (GUEST_CPU_OWNER),
 * and counts of every hit (GUEST_EVERY_HIT) and CPU-bound cases
 * (GUEST_CPU_BOUND) are not asked for.
 */
#ifdef __arm__
#define GUEST_PERF_WATCH	HW_BREAKPOINT_RW
#define GUEST_CPU_OWNER		0
#define GUEST_EVERY_HIT		0
#else
#define GUEST_PERF_WATCH	HW_BREAKPOINT_W
#define GUEST_CPU_OWNER		-1
#define GUEST_EVERY_HIT		1
#endif
#define GUEST_CPU_BOUND		(GUEST_CPU_OWNER == -1)

/* What a counting event with perf's own handler counts for n hits. */
#define GUEST_HITS(n)		(GUEST_EVERY_HIT ? (long long)(n) : 1LL)

/*
 * Where an execute breakpoint on fn goes, and its length: on 32-bit arm a
 * pointer to T32 code has bit 0 set (the Thumb bit, not part of the
 * address), and the breakpoint's byte mask covers one halfword of it.
 */
static inline const void *guest_code_addr(void (*fn)(void))
{
#ifdef __arm__
	return (const void *)((uintptr_t)fn & ~(uintptr_t)1);
#else
	return (const void *)fn;
#endif
}

static inline unsigned int guest_code_len(void (*fn)(void))
{
#ifdef __arm__
	return (uintptr_t)fn & 1 ? HW_BREAKPOINT_LEN_2 : HW_BREAKPOINT_LEN_4;
#else
	(void)fn;
	return sizeof(long);
#endif
}

/* Kind of access a ptrace-set watchpoint triggers on. */
enum guest_watch {
	GUEST_WATCH_EXEC,
	GUEST_WATCH_WRITE,
	GUEST_WATCH_RW,
};

static inline int perf_bp_open(const void *addr, unsigned int type,
			       unsigned int len, pid_t pid, int cpu,
			       struct perf_event_attr *tmpl)
{
	struct perf_event_attr attr;

	if (tmpl)
		attr = *tmpl;
	else
		memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = type;
	attr.bp_addr = (uintptr_t)addr;
	attr.bp_len = len;
	if (!tmpl) {
		attr.sample_period = 1;
		attr.exclude_kernel = 1;
		attr.exclude_hv = 1;
	}
	return syscall(SYS_perf_event_open, &attr, pid, cpu, -1, 0);
}

static inline long long perf_count(int fd)
{
	long long v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return v;
}

#if defined(__x86_64__)

/* DR7: local enable of slot i, and its R/W and LEN fields. */
#define GUEST_DR7_LOCAL_ENABLE(i)	(1UL << ((i) * 2))
#define GUEST_DR7_RW_SHIFT(i)		(16 + (i) * 4)
#define GUEST_DR7_LEN_SHIFT(i)		(18 + (i) * 4)
#define GUEST_DR7_RW_EXEC		0x0UL
#define GUEST_DR7_RW_WRITE		0x1UL
#define GUEST_DR7_RW_RW			0x3UL
#define GUEST_DR6_HIT(i)		(1UL << (i))

static inline unsigned long guest_dr7_len(unsigned int len)
{
	switch (len) {
	case 1: return 0x0;
	case 2: return 0x1;
	case 8: return 0x2;
	default: return 0x3;	/* 4 */
	}
}

static inline long guest_poke_dr(pid_t pid, int reg, unsigned long val)
{
	return ptrace(PTRACE_POKEUSER, pid,
		      offsetof(struct user, u_debugreg[reg]), val);
}

static inline long guest_peek_dr(pid_t pid, int reg)
{
	errno = 0;
	return ptrace(PTRACE_PEEKUSER, pid,
		      offsetof(struct user, u_debugreg[reg]), 0);
}

/* Program slot 0 of a stopped tracee; 0 or -errno. */
static inline int guest_ptrace_watch(pid_t pid, const void *addr,
				     unsigned int len, enum guest_watch kind)
{
	unsigned long rw = kind == GUEST_WATCH_EXEC ? GUEST_DR7_RW_EXEC :
			   kind == GUEST_WATCH_WRITE ? GUEST_DR7_RW_WRITE :
			   GUEST_DR7_RW_RW;
	unsigned long dr7;

	if (kind == GUEST_WATCH_EXEC)
		len = 1;	/* exec breakpoints use LEN=00 */
	dr7 = GUEST_DR7_LOCAL_ENABLE(0) | rw << GUEST_DR7_RW_SHIFT(0) |
	      guest_dr7_len(len) << GUEST_DR7_LEN_SHIFT(0);
	if (guest_poke_dr(pid, 0, (unsigned long)addr))
		return -errno;
	if (guest_poke_dr(pid, 7, dr7))
		return -errno;
	return 0;
}

static inline int guest_ptrace_clear(pid_t pid)
{
	return guest_poke_dr(pid, 7, 0) ? -errno : 0;
}

/* Number of data watchpoint registers (fixed on x86). */
static inline int guest_watch_slots(pid_t pid)
{
	(void)pid;
	return 4;
}

#elif defined(__aarch64__)

#include <asm/ptrace.h>

/* DBGWCR/DBGBCR fields as the regsets carry them. */
#define GUEST_CTRL_ENABLE		(1U << 0)
#define GUEST_CTRL_PRIV_EL0		(2U << 1)
#define GUEST_CTRL_LSC_SHIFT		3
#define GUEST_CTRL_LSC_LOAD		1U
#define GUEST_CTRL_LSC_STORE		2U
#define GUEST_CTRL_BAS_SHIFT		5
#define GUEST_DBG_INFO_SLOTS(info)	((info) & 0xff)

/*
 * Read the whole regset, or write register 0 only: a write covering all 16
 * entries would try to set up the ones the CPU does not have (ENOSPC).
 */
static inline int guest_regset(pid_t pid, int set, int write,
			       struct user_hwdebug_state *st)
{
	struct iovec iov = {
		.iov_base = st,
		.iov_len = write ? offsetof(struct user_hwdebug_state, dbg_regs[1]) :
			   sizeof(*st),
	};

	if (ptrace(write ? PTRACE_SETREGSET : PTRACE_GETREGSET, pid,
		   (void *)(long)set, &iov))
		return -errno;
	return 0;
}

/* Program register 0 of a stopped tracee; 0 or -errno. */
static inline int guest_ptrace_watch(pid_t pid, const void *addr,
				     unsigned int len, enum guest_watch kind)
{
	struct user_hwdebug_state st;
	uintptr_t a = (uintptr_t)addr;
	unsigned int lsc, bas, off;
	int set;

	memset(&st, 0, sizeof(st));
	if (kind == GUEST_WATCH_EXEC) {
		set = NT_ARM_HW_BREAK;
		st.dbg_regs[0].addr = a;
		st.dbg_regs[0].ctrl = GUEST_CTRL_ENABLE | GUEST_CTRL_PRIV_EL0 |
				      0xfU << GUEST_CTRL_BAS_SHIFT;
	} else {
		set = NT_ARM_HW_WATCH;
		lsc = kind == GUEST_WATCH_WRITE ? GUEST_CTRL_LSC_STORE :
		      GUEST_CTRL_LSC_STORE | GUEST_CTRL_LSC_LOAD;
		off = a & 7;
		bas = ((1U << len) - 1) << off;
		st.dbg_regs[0].addr = a & ~(uintptr_t)7;
		st.dbg_regs[0].ctrl = GUEST_CTRL_ENABLE | GUEST_CTRL_PRIV_EL0 |
				      lsc << GUEST_CTRL_LSC_SHIFT |
				      bas << GUEST_CTRL_BAS_SHIFT;
	}
	return guest_regset(pid, set, 1, &st);
}

static inline int guest_ptrace_clear(pid_t pid)
{
	struct user_hwdebug_state st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = guest_regset(pid, NT_ARM_HW_WATCH, 1, &st);
	return ret ? ret : guest_regset(pid, NT_ARM_HW_BREAK, 1, &st);
}

/* Number of watchpoint registers, as NT_ARM_HW_WATCH reports it. */
static inline int guest_watch_slots(pid_t pid)
{
	struct user_hwdebug_state st;
	int ret = guest_regset(pid, NT_ARM_HW_WATCH, 0, &st);

	return ret ? ret : (int)GUEST_DBG_INFO_SLOTS(st.dbg_info);
}

#elif defined(__arm__)

/*
 * 32-bit arm: PTRACE_GETHBPREGS/PTRACE_SETHBPREGS, one 32-bit register a
 * call. Register 0 is the resource word; breakpoint i's address and
 * control are 2i+1 and 2i+2, watchpoint i's the same numbers negated.
 */
#ifndef PTRACE_GETHBPREGS
#define PTRACE_GETHBPREGS		29
#define PTRACE_SETHBPREGS		30
#endif
#define GUEST_HBP_BP_ADDR(i)		((long)(i) * 2 + 1)
#define GUEST_HBP_BP_CTRL(i)		((long)(i) * 2 + 2)
#define GUEST_HBP_WP_ADDR(i)		(-((long)(i) * 2 + 1))
#define GUEST_HBP_WP_CTRL(i)		(-((long)(i) * 2 + 2))
/* The resource word (register 0): a byte each, from the lowest. */
#define GUEST_HBP_INFO_BRPS(info)	((info) & 0xff)
#define GUEST_HBP_INFO_WRPS(info)	(((info) >> 8) & 0xff)
#define GUEST_HBP_INFO_WP_LEN(info)	(((info) >> 16) & 0xff)
#define GUEST_HBP_INFO_ARCH(info)	(((info) >> 24) & 0xff)

/*
 * TASK_SIZE with CONFIG_VMSPLIT_3G (the Kconfig default, and the arm
 * guest's): 16 MiB below PAGE_OFFSET 0xc0000000, where modules start.
 */
#define GUEST_ARM_PAGE_OFFSET		0xc0000000UL
#define GUEST_ARM_TASK_SIZE		0xbf000000UL

/* DBGBCR/DBGWCR fields as the ptrace interface takes them. */
#define GUEST_CTRL_ENABLE		(1U << 0)
#define GUEST_CTRL_PRIV_USER		(2U << 1)
#define GUEST_CTRL_LSC_SHIFT		3
#define GUEST_CTRL_LSC_LOAD		1U
#define GUEST_CTRL_LSC_STORE		2U
#define GUEST_CTRL_BAS_SHIFT		5

static inline int guest_hbp_set(pid_t pid, long reg, uint32_t val)
{
	return ptrace(PTRACE_SETHBPREGS, pid, (void *)reg, &val) ? -errno : 0;
}

/*
 * Program breakpoint or watchpoint 0 of a stopped tracee; 0 or -errno.
 * The address goes in as it is (the kernel aligns it and shifts BAS);
 * BAS names the length. An execute address with bit 0 set is T32: its
 * instruction is 2 bytes long as far as BAS goes.
 */
static inline int guest_ptrace_watch(pid_t pid, const void *addr,
				     unsigned int len, enum guest_watch kind)
{
	uint32_t a = (uintptr_t)addr, ctrl, lsc;
	int ret;

	if (kind == GUEST_WATCH_EXEC) {
		ctrl = GUEST_CTRL_ENABLE | GUEST_CTRL_PRIV_USER |
		       (a & 1 ? 0x3U : 0xfU) << GUEST_CTRL_BAS_SHIFT;
		ret = guest_hbp_set(pid, GUEST_HBP_BP_ADDR(0), a & ~1U);
		return ret ? ret : guest_hbp_set(pid, GUEST_HBP_BP_CTRL(0), ctrl);
	}
	lsc = kind == GUEST_WATCH_WRITE ? GUEST_CTRL_LSC_STORE :
	      GUEST_CTRL_LSC_STORE | GUEST_CTRL_LSC_LOAD;
	ctrl = GUEST_CTRL_ENABLE | GUEST_CTRL_PRIV_USER |
	       lsc << GUEST_CTRL_LSC_SHIFT |
	       ((1U << len) - 1) << GUEST_CTRL_BAS_SHIFT;
	ret = guest_hbp_set(pid, GUEST_HBP_WP_ADDR(0), a);
	return ret ? ret : guest_hbp_set(pid, GUEST_HBP_WP_CTRL(0), ctrl);
}

/*
 * Disable register 0 of each kind: a control word with the enable bit
 * clear, whose other fields must still decode (arm's ptrace refuses a
 * control word of 0 with EINVAL: no length, no type).
 */
static inline int guest_ptrace_clear(pid_t pid)
{
	uint32_t off = GUEST_CTRL_PRIV_USER | 0xfU << GUEST_CTRL_BAS_SHIFT;
	int ret = guest_hbp_set(pid, GUEST_HBP_WP_CTRL(0),
				off | GUEST_CTRL_LSC_STORE << GUEST_CTRL_LSC_SHIFT);

	return ret ? ret : guest_hbp_set(pid, GUEST_HBP_BP_CTRL(0), off);
}

/* Number of watchpoint registers, from the resource word. */
static inline int guest_watch_slots(pid_t pid)
{
	uint32_t info;

	if (ptrace(PTRACE_GETHBPREGS, pid, (void *)0L, &info))
		return -errno;
	return GUEST_HBP_INFO_WRPS(info);
}

#else
#error "guest programs support x86_64, arm64 and 32-bit arm"
#endif

/*
 * Fork a child that stops itself under PTRACE_TRACEME and then runs fn.
 * Returns the pid, stopped (SIGSTOP) and ready for debug-register writes.
 */
static inline pid_t guest_spawn_traced(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(126);
		raise(SIGSTOP);
		fn();
		_exit(0);
	}
	if (pid < 0)
		return -1;
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
	    WSTOPSIG(status) != SIGSTOP)
		return -1;
	return pid;
}

/* The si_code of the signal a stopped tracee stopped with, or -1. */
static inline int guest_stop_code(pid_t pid)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si))
		return -1;
	return si.si_code;
}

/*
 * After a stop on the write watchpoint of guest_ptrace_watch() at @addr:
 * what a debugger does before continuing. arm64 reports a watchpoint
 * before the access, so the watchpoint is cleared, the instruction
 * stepped and the watchpoint set again; x86 reports it after, so there
 * is nothing to do. 0, or -1 if the tracee did not step.
 */
static inline int guest_step_over_watch(pid_t pid, const volatile void *addr,
					unsigned int len)
{
#ifdef __aarch64__
	int status;

	if (guest_ptrace_clear(pid) || ptrace(PTRACE_SINGLESTEP, pid, 0, 0) ||
	    waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
	    WSTOPSIG(status) != SIGTRAP ||
	    guest_ptrace_watch(pid, (const void *)addr, len, GUEST_WATCH_WRITE))
		return -1;
#elif defined(__arm__)
	/*
	 * 32-bit arm reports before the access too, and has no
	 * PTRACE_SINGLESTEP to step it with.
	 */
	(void)pid;
	(void)addr;
	(void)len;
	return -1;
#else
	(void)pid;
	(void)addr;
	(void)len;
#endif
	return 0;
}

static inline void guest_idle(void)
{
}

/* Data watchpoint registers of this CPU, as ptrace reports them. */
static inline int guest_nr_data_slots(void)
{
	pid_t pid = guest_spawn_traced(guest_idle);
	int n;

	if (pid < 0)
		return -1;
	n = guest_watch_slots(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return n;
}

/* === The kernel's own numbers, from /proc and /sys === */

/* An integer file (a sysctl, kernel_max): 0, or -1 if unreadable. */
static inline int guest_read_int(const char *path, int *val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%d", val) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* The same for a value that may not fit an int; 0 if unreadable. */
static inline unsigned long long guest_read_ull(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/*
 * A CPU list file ("0-3,5"): marks map[0..max) if @map, returns the
 * highest CPU listed or -1.
 */
static inline int guest_cpu_list(const char *path, unsigned char *map, int max)
{
	FILE *f = fopen(path, "r");
	char buf[4096], *p, *end;
	int last = -1;

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (p = buf; *p && *p != '\n';) {
		long lo = strtol(p, &end, 10), hi = lo, c;

		if (end == p)
			break;
		p = end;
		if (*p == '-') {
			hi = strtol(p + 1, &end, 10);
			p = end;
		}
		for (c = lo; c <= hi && c < max; c++) {
			if (map)
				map[c] = 1;
			if (c > last)
				last = c;
		}
		if (*p == ',')
			p++;
	}
	return last;
}

/* A kernel symbol's address, 0 if absent (root sees real addresses). */
static inline unsigned long guest_kallsyms(const char *name)
{
	char line[512], sym[256], type;
	unsigned long addr;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name)) {
			fclose(f);
			return addr;
		}
	}
	fclose(f);
	return 0;
}

#ifdef HWBP_GUEST_TAP_H
#define GUEST_IN_USE	"/sys/kernel/debug/hw_breakpoint/in_use"

/*
 * The allocator's own answer, hw_breakpoint_is_used(), through debugfs:
 * no slot is held once every breakpoint the caller made is closed (and
 * its children reaped). The base tree has no such file.
 */
static inline void guest_check_in_use(void)
{
	FILE *f = fopen(GUEST_IN_USE, "r");
	int used = -1;

	if (!f) {
		tap_skip("no " GUEST_IN_USE " (the base tree's allocator)",
			 "hw_breakpoint_is_used() is false");
		return;
	}
	if (fscanf(f, "%d", &used) != 1)
		used = -1;
	fclose(f);
	tap_ok(used == 0, "hw_breakpoint_is_used() is false (in_use %d)", used);
}

/*
 * No slot is leaked: this thread, and every online CPU, can take as many
 * pinned watchpoints as there are registers.
 */
static inline void guest_check_all_free(void)
{
	static volatile uint64_t spots[8] __attribute__((aligned(8)));
	struct perf_event_attr attr = {
		.sample_period = 1, .exclude_kernel = 1, .exclude_hv = 1,
		.pinned = 1,
	};
	int slots = guest_nr_data_slots(), fds[64], n, cpu, ok = 1;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	for (n = 0; n < slots; n++) {
		fds[n] = perf_bp_open((void *)&spots[n % 8], GUEST_PERF_WATCH,
				      8, 0, -1, &attr);
		if (fds[n] < 0)
			break;
	}
	tap_ok(n == slots, "no slot leaked: this thread takes all %d watchpoints (got %d)",
	       slots, n);
	while (n--)
		close(fds[n]);

	for (cpu = 0; cpu < ncpus; cpu++) {
		for (n = 0; n < slots; n++) {
			fds[n] = perf_bp_open((void *)&spots[n % 8],
					      GUEST_PERF_WATCH, 8,
					      GUEST_CPU_OWNER, cpu, &attr);
			if (fds[n] < 0)
				break;
		}
		if (n != slots)
			ok = 0;
		while (n--)
			close(fds[n]);
	}
	tap_ok(ok, "no slot leaked: each of %d CPUs takes all %d watchpoints",
	       ncpus, slots);
	guest_check_in_use();
}
#endif

#endif /* HWBP_GUEST_H */
