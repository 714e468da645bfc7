// SPDX-License-Identifier: GPL-2.0
/*
 * x86 debug registers through ptrace, as gdb uses them: PTRACE_POKEUSER of
 * DR0-DR3 and DR7, PTRACE_PEEKUSER of DR6. For every slot, access type,
 * length and enable bit, the traced child must stop with SIGTRAP
 * (TRAP_HWBKPT, the slot's DR6 bit) exactly when its access overlaps the
 * watched range, and run to completion otherwise. Combinations DR7 cannot
 * hold are refused.
 */
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"

#define GUEST_DR7_GLOBAL_ENABLE(i)	(2UL << ((i) * 2))
#define GUEST_DR7_RW_IO			0x2UL

enum access { ACC_EXEC, ACC_WRITE, ACC_READ };

static unsigned char area[64] __attribute__((aligned(64)));
static volatile unsigned long sink;

/* What the next child does; set before fork. */
static enum access child_access;
static unsigned int child_offset, child_len;

static noinline void target_fn(void)
{
	asm volatile("" ::: "memory");
}

static noinline void child_run(void)
{
	volatile unsigned char *p = area + child_offset;

	switch (child_access) {
	case ACC_EXEC:
		target_fn();
		break;
	case ACC_WRITE:
		switch (child_len) {
		case 1: *(volatile uint8_t *)p = 1; break;
		case 2: *(volatile uint16_t *)p = 1; break;
		case 4: *(volatile uint32_t *)p = 1; break;
		default: *(volatile uint64_t *)p = 1; break;
		}
		break;
	case ACC_READ:
		switch (child_len) {
		case 1: sink = *(volatile uint8_t *)p; break;
		case 2: sink = *(volatile uint16_t *)p; break;
		case 4: sink = *(volatile uint32_t *)p; break;
		default: sink = *(volatile uint64_t *)p; break;
		}
		break;
	}
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Program slot @slot with @addr and @dr7, run one access in the child and
 * report whether it stopped on the breakpoint (1), ran to the end (0), or
 * something else happened (-1). *@err gets the errno of a refused write.
 */
static int run_case(int slot, unsigned long addr, unsigned long dr7,
		    int *err, long *dr6)
{
	pid_t pid = guest_spawn_traced(child_run);
	siginfo_t si;
	int status;

	*err = 0;
	*dr6 = 0;
	if (pid < 0)
		return -1;
	if (guest_poke_dr(pid, slot, addr) || guest_poke_dr(pid, 7, dr7)) {
		*err = errno;
		reap(pid);
		return -1;
	}
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0 ? 0 : -1;
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
		reap(pid);
		return -1;
	}
	memset(&si, 0, sizeof(si));
	ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
	*dr6 = guest_peek_dr(pid, 6);
	reap(pid);
	return si.si_code == TRAP_HWBKPT ? 1 : -1;
}

static const char *const enable_names[] = { "", "local", "global", "local+global" };

static unsigned long enable_bits(int slot, int how)
{
	return (how & 1 ? GUEST_DR7_LOCAL_ENABLE(slot) : 0) |
	       (how & 2 ? GUEST_DR7_GLOBAL_ENABLE(slot) : 0);
}

/*
 * One case: the child makes @acc of @len bytes at area[@offset] while slot
 * @slot watches @len bytes at area[16] for @rw; it must stop there (with
 * the slot's DR6 bit) exactly when @want_stop.
 */
static void watch_case(int slot, int how, unsigned int len, unsigned long rw,
		       enum access acc, unsigned int offset, int want_stop,
		       const char *what)
{
	unsigned long dr7 = enable_bits(slot, how) |
			    rw << GUEST_DR7_RW_SHIFT(slot) |
			    guest_dr7_len(len) << GUEST_DR7_LEN_SHIFT(slot);
	int hit, err;
	long dr6;

	child_access = acc;
	child_len = len;
	child_offset = offset;
	hit = run_case(slot, (unsigned long)area + 16, dr7, &err, &dr6);
	tap_ok(want_stop ? hit == 1 && (dr6 & GUEST_DR6_HIT(slot)) : hit == 0,
	       "%s, len %u, slot %d, %s: %s (%d, dr6 %#lx, errno %d)", what, len,
	       slot, enable_names[how], want_stop ? "stops" : "runs on", hit,
	       dr6, err);
}

/* Every slot and enable bit: hits on the range, misses beside it. */
static void test_watchpoints(void)
{
	static const unsigned int lens[] = { 1, 2, 4, 8 };
	int slot, how, l, hit, err;
	unsigned int len;
	long dr6;

	for (slot = 0; slot < 4; slot++) {
		for (how = 1; how <= 3; how++) {
			/* Execute: DR7 length 1 (encoding 00). */
			child_access = ACC_EXEC;
			hit = run_case(slot, (unsigned long)target_fn,
				       enable_bits(slot, how) |
				       GUEST_DR7_RW_EXEC << GUEST_DR7_RW_SHIFT(slot),
				       &err, &dr6);
			tap_ok(hit == 1 && (dr6 & GUEST_DR6_HIT(slot)),
			       "exec slot %d %s: stops (%d, dr6 %#lx, errno %d)",
			       slot, enable_names[how], hit, dr6, err);

			for (l = 0; l < 4; l++) {
				len = lens[l];
				watch_case(slot, how, len, GUEST_DR7_RW_WRITE,
					   ACC_WRITE, 16, 1, "write, write watch");
				/* A read does not trip a write watchpoint. */
				watch_case(slot, how, len, GUEST_DR7_RW_WRITE,
					   ACC_READ, 16, 0, "read, write watch");
				watch_case(slot, how, len, GUEST_DR7_RW_RW,
					   ACC_READ, 16, 1, "read, rw watch");
				/* The bytes right after the range are not watched. */
				watch_case(slot, how, len, GUEST_DR7_RW_RW,
					   ACC_WRITE, 16 + len, 0, "write beside, rw watch");
			}
		}
	}
}

/* DR7 values the hardware or the kernel cannot honour are refused. */
static void test_refused(void)
{
	unsigned long base = (unsigned long)area + 16;
	int hit, err;
	long dr6;

	child_access = ACC_WRITE;
	child_offset = 16;
	child_len = 1;

	hit = run_case(0, base, GUEST_DR7_LOCAL_ENABLE(0) |
		       GUEST_DR7_RW_IO << GUEST_DR7_RW_SHIFT(0), &err, &dr6);
	tap_ok(hit == -1 && err == EINVAL, "I/O breakpoint type refused (errno %d)", err);

	hit = run_case(0, (unsigned long)target_fn, GUEST_DR7_LOCAL_ENABLE(0) |
		       guest_dr7_len(4) << GUEST_DR7_LEN_SHIFT(0), &err, &dr6);
	tap_ok(hit == -1 && err == EINVAL, "execute with length 4 refused (errno %d)", err);

	hit = run_case(0, base + 1, GUEST_DR7_LOCAL_ENABLE(0) |
		       GUEST_DR7_RW_WRITE << GUEST_DR7_RW_SHIFT(0) |
		       guest_dr7_len(4) << GUEST_DR7_LEN_SHIFT(0), &err, &dr6);
	tap_ok(hit == -1 && err == EINVAL, "misaligned 4-byte watchpoint refused (errno %d)", err);

	hit = run_case(0, base + 4, GUEST_DR7_LOCAL_ENABLE(0) |
		       GUEST_DR7_RW_WRITE << GUEST_DR7_RW_SHIFT(0) |
		       guest_dr7_len(8) << GUEST_DR7_LEN_SHIFT(0), &err, &dr6);
	tap_ok(hit == -1 && err == EINVAL, "misaligned 8-byte watchpoint refused (errno %d)", err);

	hit = run_case(0, 0xffffffff81000000UL, GUEST_DR7_LOCAL_ENABLE(0) |
		       GUEST_DR7_RW_WRITE << GUEST_DR7_RW_SHIFT(0), &err, &dr6);
	tap_ok(hit == -1 && err != 0, "kernel address refused to a tracer (errno %d)", err);

	/* A refused write leaves the slot usable. */
	hit = run_case(0, base, GUEST_DR7_LOCAL_ENABLE(0) |
		       GUEST_DR7_RW_WRITE << GUEST_DR7_RW_SHIFT(0), &err, &dr6);
	tap_ok(hit == 1, "slot 0 works after the refusals (%d, errno %d)", hit, err);
}

/* All four slots at once: each write reports its own slot in DR6. */
static void test_four_at_once(void)
{
	pid_t pid;
	int slot, status, ok = 1;
	unsigned long dr7 = 0;

	child_access = ACC_WRITE;
	child_len = 1;
	child_offset = 40;	/* the child writes area[40]: slot 3 */
	pid = guest_spawn_traced(child_run);
	if (!tap_ok(pid > 0, "four slots: child ready"))
		return;
	for (slot = 0; slot < 4; slot++) {
		ok &= !guest_poke_dr(pid, slot, (unsigned long)area + 16 + 8 * slot);
		dr7 |= GUEST_DR7_LOCAL_ENABLE(slot) |
		       GUEST_DR7_RW_WRITE << GUEST_DR7_RW_SHIFT(slot);
	}
	ok &= !guest_poke_dr(pid, 7, dr7);
	tap_ok(ok, "four slots programmed");
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	tap_ok(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP &&
	       (guest_peek_dr(pid, 6) & 0xf) == GUEST_DR6_HIT(3),
	       "four slots: the write hits slot 3 only (dr6 %#lx)",
	       guest_peek_dr(pid, 6));
	tap_ok(guest_peek_dr(pid, 7) == (long)dr7, "DR7 reads back as written");
	reap(pid);
}

int main(void)
{
	test_watchpoints();
	test_refused();
	test_four_at_once();
	return tap_done();
}
