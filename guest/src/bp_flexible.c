// SPDX-License-Identifier: GPL-2.0
/*
 * Flexible (non-pinned) breakpoints: more watchpoints than registers,
 * multiplexed by perf like hardware counters, and the PMU's caps and
 * switch under /sys/bus/event_source/devices/breakpoint/.
 *
 * The rules (Documentation/dev-tools/hw-breakpoint.rst): an owner's
 * flexible breakpoints (a task's, or a CPU's) share one register, which
 * the first of them needs free; pinned ones leave it to them; perf rotates
 * the flexible ones through every register the pinned ones leave, so each
 * runs part of the time and perf's time_enabled/time_running scale its
 * count. Writing 0 to the switch restores 6.12's rule (every breakpoint
 * takes a register of its own) once no flexible breakpoint is left.
 *
 * On 32-bit arm the suite asks only for what that backend gives user
 * space with perf's own overflow handler: read-write watchpoints (before
 * ARMv8 debug the fault status cannot tell a load from a store) of a
 * task (it steps over a hit with a breakpoint of the task's own, so none
 * bound to a CPU alone). Under QEMU, which implements no address-mismatch
 * breakpoints, that step never ends, so a watchpoint would count its
 * first hit only (stock too): there the loops write no watched word, the
 * rotation is judged by perf's times alone, and the checks of counts and
 * of CPU-bound breakpoints skip, named by the suite's expect lines.
 */
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include "tap.h"
#include "hwbp_guest.h"

#define PMU_DIR		"/sys/bus/event_source/devices/breakpoint/"
#define MAX_EVENTS	16
#define RUN_NS		1500000000LL	/* guest time each loop runs */

#if defined(__x86_64__)
#define MAX_WATCH_LEN	32ULL		/* a range over 4 registers */
#elif defined(__aarch64__)
#define MAX_WATCH_LEN	(1ULL << 31)	/* MASK blocks */
#else
#define MAX_WATCH_LEN	0ULL		/* absent: arm does not say */
#endif
#define NO_COUNTS	"32-bit arm under QEMU: a watchpoint counts its first hit only"
#define NO_CPU_BOUND	"32-bit arm: no CPU-bound breakpoint with perf's own handler"

/* A check of what watchpoints counted: skipped where they cannot count. */
#define count_ok(cond, ...)						\
	do {								\
		if (GUEST_EVERY_HIT)					\
			tap_ok(cond, __VA_ARGS__);			\
		else							\
			tap_skip(NO_COUNTS, __VA_ARGS__);		\
	} while (0)

/*
 * The watched words, and after them on the same page an unwatched one
 * the loop stores to after each watched store: QEMU 7.2's x86 TCG keeps a
 * watchpoint's hit flag until an access to its page matches no
 * watchpoint, and names every flagged one in DR6 on the next #DB (see the
 * nested suite's expect line); the unwatched store clears the flags, as
 * a real CPU needs no help to.
 */
static volatile struct {
	uint64_t	words[MAX_EVENTS];
	uint64_t	scrub;
} page __attribute__((aligned(256)));
#define words page.words

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A counting write watchpoint on words[i], of @pid (0: this thread) on
 * @cpu (or any), in the group of @group (or its own), opened disabled
 * if @disabled.
 */
static int open_watch_ev(int i, int pinned, int disabled, int pid, int cpu,
			 int group)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT, .size = sizeof(attr),
		.bp_type = GUEST_PERF_WATCH, .bp_len = 8,
		.bp_addr = (uintptr_t)&words[i], .disabled = disabled,
		.exclude_kernel = 1, .exclude_hv = 1, .pinned = pinned,
		.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			       PERF_FORMAT_TOTAL_TIME_RUNNING,
	};

	return syscall(SYS_perf_event_open, &attr, pid, cpu, group, 0);
}

static int open_watch_in(int i, int pinned, int pid, int cpu, int group)
{
	return open_watch_ev(i, pinned, 0, pid, cpu, group);
}

static int open_watch(int i, int pinned, int pid, int cpu)
{
	return open_watch_in(i, pinned, pid, cpu, -1);
}

struct reading {
	unsigned long long value, enabled, running;
};

static int read_event(int fd, struct reading *r)
{
	return read(fd, r, sizeof(*r)) == sizeof(*r) ? 0 : -1;
}

/*
 * Write words[0 .. n-1] in turn for RUN_NS (where watchpoints cannot
 * count, the unwatched word only); returns the rounds made.
 */
static noinline long write_rounds(int n)
{
	long long end = now_ns() + RUN_NS;
	long rounds = 0;
	int i;

	while (now_ns() < end) {
		for (int k = 0; k < 64; k++) {
			for (i = 0; i < n; i++) {
				if (GUEST_EVERY_HIT)
					words[i] = rounds;
				page.scrub = rounds;
			}
			rounds++;
		}
	}
	return rounds;
}

/* An integer file of the PMU's directory, or -1. */
static int read_cap(const char *name)
{
	char path[128];
	int v;

	snprintf(path, sizeof(path), PMU_DIR "%s", name);
	return guest_read_int(path, &v) ? -1 : v;
}


/* Write @val to the switch: 0 or an errno. */
static int set_flexible(int on)
{
	FILE *f = fopen(PMU_DIR "flexible", "w");
	int err = 0;

	if (!f)
		return errno;
	if (fprintf(f, "%d\n", on) < 0)
		err = errno;
	if (fclose(f) && !err)
		err = errno;
	return err;
}

/*
 * With nothing held, the slots file's installed column (the registers
 * each CPU's add()s took and del()s gave back) must be 0 everywhere: a
 * count that drifts starves flexible breakpoints or overcommits.
 */
static void check_installed(const char *when)
{
	FILE *f = fopen("/sys/kernel/debug/hw_breakpoint/slots", "r");
	int cpu, a, b, c, d, e, g, installed, bad = 0, rows = 0;
	char line[256], t[16];

	if (!f) {
		tap_skip("no slots file", "%s: no register left installed", when);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %15s %d %d %d %d %d %d %d", &cpu, t, &a,
			   &b, &c, &d, &e, &g, &installed) != 9)
			continue;
		rows++;
		if (installed) {
			bad++;
			tap_diag("%s: %.*s", when, (int)strcspn(line, "\n"), line);
		}
	}
	fclose(f);
	tap_ok(rows && !bad, "%s: no register left installed on any CPU (%d of %d rows not 0)",
	       when, bad, rows);
}

static void close_all(int *fds, int n)
{
	while (n--)
		if (fds[n] >= 0)
			close(fds[n]);
}

/*
 * @nflex flexible watchpoints next to @npinned pinned ones, all of this
 * thread: each flexible one runs part of the time, their running
 * fractions add up to the registers the pinned ones leave, and each
 * scaled count is within @tol of the truth; the pinned ones run all the
 * time and count exactly.
 */
static void test_multiplex(int slots, int npinned, int nflex, double tol)
{
	int fds[MAX_EVENTS], n = npinned + nflex, i, opened = 0;
	double sum = 0, expect_sum = slots - npinned;
	int partial = 1, scaled_ok = 1, exact = 1;
	struct reading r[MAX_EVENTS];
	long rounds;

	for (i = 0; i < n; i++) {
		fds[i] = open_watch(i, i < npinned, 0, -1);
		opened += fds[i] >= 0;
	}
	if (!tap_ok(opened == n, "%d pinned + %d flexible watchpoints on %d registers all open (%d did)",
		    npinned, nflex, slots, opened)) {
		close_all(fds, n);
		return;
	}
	rounds = write_rounds(n);
	for (i = 0; i < n; i++) {
		if (read_event(fds[i], &r[i]))
			memset(&r[i], 0, sizeof(r[i]));
	}
	for (i = 0; i < n; i++) {
		double frac = r[i].enabled ? (double)r[i].running / r[i].enabled : 0;
		double scaled = r[i].running ?
			(double)r[i].value * r[i].enabled / r[i].running : 0;

		if (i < npinned) {
			if (r[i].value != (unsigned long long)rounds ||
			    r[i].running != r[i].enabled)
				exact = 0;
			tap_diag("pinned %d: %llu of %ld, running %.3f", i,
				 r[i].value, rounds, frac);
			continue;
		}
		sum += frac;
		if (!(r[i].running > 0 && r[i].running < r[i].enabled))
			partial = 0;
		if (scaled < rounds * (1 - tol) || scaled > rounds * (1 + tol))
			scaled_ok = 0;
		tap_diag("flexible %d: %llu of %ld, running %.3f, scaled %.0f",
			 i, r[i].value, rounds, frac, scaled);
	}
	if (npinned)
		count_ok(exact, "%d pinned + %d flexible: the pinned ones run all the time and count all %ld writes",
			 npinned, nflex, rounds);
	tap_ok(partial, "%d pinned + %d flexible: each flexible one runs part of the time (0 < running < enabled)",
	       npinned, nflex);
	tap_ok(sum > expect_sum * 0.8 && sum < expect_sum * 1.2 + 0.05,
	       "%d pinned + %d flexible: running fractions add up to %.2f, the %.0f registers left",
	       npinned, nflex, sum, expect_sum);
	count_ok(scaled_ok, "%d pinned + %d flexible: every scaled count within %.0f%% of %ld",
		 npinned, nflex, tol * 100, rounds);
	close_all(fds, n);
}

/* Pinned and flexible meeting in one task's registers. */
static void test_admission(int slots)
{
	int fds[MAX_EVENTS], n = 0, fd, i;

	for (i = 0; i < slots; i++)
		fds[n++] = open_watch(i, 1, 0, -1);
	fd = open_watch(slots, 0, 0, -1);
	tap_ok(fd < 0 && errno == ENOSPC, "%d pinned, then a flexible one: ENOSPC, no register left for it (fd %d errno %d)",
	       slots, fd, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	close_all(fds, n);

	n = 0;
	fds[n++] = open_watch(0, 0, 0, -1);
	for (i = 1; i < slots; i++)
		fds[n++] = open_watch(i, 1, 0, -1);
	for (i = 0; i < n && fds[i] >= 0; i++)
		;
	tap_ok(i == n, "a flexible one, then %d pinned: all open", slots - 1);
	fd = open_watch(slots, 1, 0, -1);
	tap_ok(fd < 0 && errno == ENOSPC, "... and pinned number %d: ENOSPC, the flexible ones keep their register (errno %d)",
	       slots, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	/* More flexible ones fit for free. */
	for (i = 0; i < 3; i++)
		fds[n++] = open_watch(slots + i, 0, 0, -1);
	tap_ok(fds[n - 1] >= 0 && fds[n - 2] >= 0 && fds[n - 3] >= 0,
	       "... and three more flexible ones open");
	close_all(fds, n);
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void pin_to_all(void)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Registers a CPU's own breakpoints fill: a task's flexible ones there. */
static void test_cpu_bound(int slots)
{
	int fds[MAX_EVENTS], n = 0, fd, i, ok = 1;
	struct reading r;
	long rounds;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || !GUEST_CPU_BOUND) {
		tap_skip(GUEST_CPU_BOUND ? "one CPU" : NO_CPU_BOUND,
			 "CPU-bound pinned watchpoints on CPU 0 fill it");
		return;
	}
	for (i = 0; i < slots; i++) {
		fds[n] = open_watch(i, 1, -1, 0);
		ok &= fds[n++] >= 0;
	}
	tap_ok(ok, "%d pinned CPU-bound watchpoints on CPU 0 open", slots);
	fd = open_watch(slots, 0, 0, -1);
	tap_ok(fd < 0 && errno == ENOSPC, "then this task's first flexible one, on every CPU: ENOSPC (errno %d)",
	       fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	fd = open_watch(0, 0, 0, 1);
	if (tap_ok(fd >= 0, "bound to CPU 1 instead: it opens (errno %d)",
		   fd < 0 ? errno : 0)) {
		pin_to(1);
		rounds = write_rounds(1);
		pin_to_all();
		if (read_event(fd, &r))
			memset(&r, 0, sizeof(r));
		/* Enabled also runs while the task is on CPU 0. */
		tap_ok(r.value == (unsigned long long)rounds && r.running > 0,
		       "... and counts all %ld writes on CPU 1 (%llu)", rounds,
		       r.value);
		close(fd);
	}
	close_all(fds, n);
}

static void test_switch(int slots)
{
	int fds[MAX_EVENTS], n = 0, i, fd, err;

	fd = open_watch(0, 0, 0, -1);
	err = set_flexible(0);
	tap_ok(err == EBUSY, "the switch refuses 0 while a flexible watchpoint exists (errno %d)",
	       err);
	if (fd >= 0)
		close(fd);
	err = set_flexible(0);
	if (!tap_ok(!err, "with none left, writing 0 works (errno %d)", err))
		return;
	tap_ok(read_cap("flexible") == 0, "flexible reads 0");
	for (i = 0; i < slots; i++)
		fds[n++] = open_watch(i, 0, 0, -1);
	tap_ok(fds[n - 1] >= 0, "switched off: %d non-pinned watchpoints open", slots);
	fd = open_watch(slots, 0, 0, -1);
	tap_ok(fd < 0 && errno == ENOSPC, "... and one more gets ENOSPC, as in 6.12 (errno %d)",
	       fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	close_all(fds, n);
	err = set_flexible(1);
	tap_ok(!err && read_cap("flexible") == 1, "writing 1 turns it back on (errno %d)",
	       err);
}

/* How many pinned watchpoints this thread can hold. */
static int pinned_fit(void)
{
	int fds[MAX_EVENTS], n = 0;

	while (n < MAX_EVENTS && (fds[n] = open_watch(n, 1, 0, -1)) >= 0)
		n++;
	close_all(fds, n);
	return n;
}

/* A cpu-clock group leader on this thread, pinned or not, disabled or not. */
static int open_leader(int pinned, int disabled)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK, .pinned = pinned,
		.disabled = disabled, .exclude_kernel = 1, .exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static void test_foreign_group(int slots);

/*
 * The group leader decides: watchpoints (attr.pinned clear, as members
 * must have it) in a group led by another PMU's event, a cpu-clock here,
 * take a register each, pinned leader or not: perf rotates that group
 * with the cpu-clock PMU's context, never against the breakpoint PMU's
 * flexible events. So N fit and the next gets ENOSPC; and with 1 pinned
 * watchpoint and a non-pinned cpu-clock group of N-1, a plain flexible
 * one gets ENOSPC, while the group's watchpoints count every write.
 */
static void test_groups(int slots)
{
	int fds[MAX_EVENTS], n, i, fd, leader;

	for (int pinned = 1; pinned >= 0; pinned--) {
		leader = open_leader(pinned, 0);
		if (!tap_ok(leader >= 0, "a %s cpu-clock group leader opens (errno %d)",
			    pinned ? "pinned" : "flexible",
			    leader < 0 ? errno : 0))
			continue;
		n = 0;
		for (i = 0; i < slots; i++)
			fds[n++] = open_watch_in(i, 0, 0, -1, leader);
		for (i = 0; i < n && fds[i] >= 0; i++)
			;
		fd = open_watch_in(slots, 0, 0, -1, leader);
		tap_ok(i == n && fd < 0 && errno == ENOSPC,
		       "led by a %s event: %d watchpoints fit, the next gets ENOSPC (%d opened, errno %d)",
		       pinned ? "pinned" : "flexible", slots, i,
		       fd < 0 ? errno : 0);
		if (fd >= 0)
			close(fd);
		close_all(fds, n);
		close(leader);
	}
	test_foreign_group(slots);
}

/*
 * 1 pinned watchpoint, a non-pinned cpu-clock group of N-1 watchpoints,
 * then a plain flexible one: ENOSPC, since the group's take a register
 * each; they count every write.
 */
static void test_foreign_group(int slots)
{
	int fds[MAX_EVENTS + 2], n = 0, i, fd, ok = 1, counted = 1;
	struct reading r;
	long rounds;

	fds[n++] = open_watch(0, 1, 0, -1);
	fds[n++] = open_leader(0, 1);
	for (i = 1; i < slots; i++)
		fds[n++] = open_watch_in(i, 0, 0, -1, fds[1]);
	for (i = 0; i < n; i++)
		ok &= fds[i] >= 0;
	/*
	 * Members joining a group that is in wait for its leader's PMU
	 * context to be scheduled again; enabling the leader now starts the
	 * whole group at once.
	 */
	ok &= !ioctl(fds[1], PERF_EVENT_IOC_ENABLE, 0);
	fd = open_watch(slots, 0, 0, -1);
	tap_ok(ok && fd < 0 && errno == ENOSPC,
	       "1 pinned and a non-pinned cpu-clock group of %d watchpoints: a plain flexible one gets ENOSPC (errno %d)",
	       slots - 1, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	rounds = write_rounds(slots);
	for (i = 2; i < n; i++) {
		if (read_event(fds[i], &r))
			memset(&r, 0, sizeof(r));
		ok &= r.running == r.enabled;
		counted &= r.value == (unsigned long long)rounds;
		tap_diag("member %d: %llu of %ld, running %llu of %llu", i,
			 r.value, rounds, r.running, r.enabled);
	}
	tap_ok(ok, "... and the group's watchpoints run all the time");
	count_ok(ok && counted, "... and count all %ld writes", rounds);
	close_all(fds, n);
}

/*
 * A flexible group needs all its members' registers at once. With one
 * pinned watchpoint of @pid on @cpu, a flexible group there led by a
 * watchpoint takes N-1 watchpoints and the N-th gets ENOSPC (it would
 * never run); the same for a CPU's own group (@pid -1). The leader is
 * opened disabled: the caller enables it, so that the whole group starts
 * at once (a member that joins a group already in runs only from the
 * next time its context is scheduled, the leader from its open). Returns
 * in @fds the pinned one, then the group (the leader first), and their
 * number, or 0 when they did not open.
 */
static int open_group_share(int slots, int pid, int cpu, int *fds,
			    const char *who)
{
	int n = 0, i, fd, ok = 1;

	fds[n++] = open_watch(0, 1, pid, cpu);
	fds[n++] = open_watch_ev(1, 0, 1, pid, cpu, -1);
	for (i = 2; i < slots; i++) {
		fds[n] = open_watch_in(i, 0, pid, cpu, fds[1]);
		ok &= fds[n++] >= 0;
	}
	ok &= fds[0] >= 0 && fds[1] >= 0;
	fd = open_watch_in(slots, 0, pid, cpu, fds[1]);
	tap_ok(ok && fd < 0 && errno == ENOSPC,
	       "%s: 1 pinned, then a flexible group: %d watchpoints fit in it, the next gets ENOSPC (errno %d)",
	       who, slots - 1, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	if (!ok) {
		close_all(fds, n);
		return 0;
	}
	return n;
}

/*
 * This thread's 1 pinned watchpoint, a flexible group of N-1 and a plain
 * flexible one: the group and the plain one cannot be in at once, so
 * perf rotates them, and each round of writes is counted by whichever
 * is in. So every member runs part of the time, all for the same time
 * (the group goes in whole), their running times and the plain one's
 * add up to the leader's time enabled (within 1%; a member's own counts
 * from its open, before the leader was enabled), and a member's count
 * plus the plain one's is every round, give or take one per rotation (a rotation
 * between a member's write and the plain one's in a round counts that
 * round twice or not at all; perf rotates at most once per
 * perf_event_mux_interval_ms). Scaling is no
 * oracle here: a round with the group in takes three more traps than
 * one with the plain one in, so the two count at different rates. The
 * pinned one counts every write. Then the same admission for a group
 * bound to CPU 1 and no task.
 */
static void test_group_share(int slots)
{
	int fds[MAX_EVENTS + 2], n, i, plain, ok = 1, same = 1, sum = 1;
	int counted;
	int interval = read_cap("perf_event_mux_interval_ms");
	struct reading r[MAX_EVENTS + 2];
	long long rotations;
	long rounds;

	n = open_group_share(slots, 0, -1, fds, "this thread");
	if (!n) {
		tap_skip("the group did not open", "a flexible group and a plain flexible watchpoint rotate");
	} else {
		ok = !ioctl(fds[1], PERF_EVENT_IOC_ENABLE, 0);
		plain = open_watch(slots, 0, 0, -1);
		rounds = write_rounds(slots + 1);
		/* Stop them, so their times hold still while read. */
		ioctl(fds[1], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
		ioctl(plain, PERF_EVENT_IOC_DISABLE, 0);
		ok &= plain >= 0;
		for (i = 0; i <= n; i++) {
			if (read_event(i < n ? fds[i] : plain, &r[i])) {
				memset(&r[i], 0, sizeof(r[i]));
				ok = 0;
			}
			tap_diag("%s %d: %llu of %ld, running %llu of %llu",
				 !i ? "pinned" : i == n ? "plain" : "member", i,
				 r[i].value, rounds, r[i].running, r[i].enabled);
		}
		ok &= interval > 0;
		counted = r[0].value == (unsigned long long)rounds;
		rotations = interval > 0 ? r[n].enabled / (interval * 1000000LL) + 2 : 0;
		for (i = 1; i <= n; i++) {
			ok &= r[i].running > 0 && r[i].running < r[i].enabled;
			counted &= r[i].value > 0;
		}
		for (i = 1; i < n; i++) {
			long long runs = r[i].running + r[n].running;
			long long counts = r[i].value + r[n].value;

			same &= llabs((long long)(r[i].running - r[1].running)) <=
				r[1].running / 100;
			sum &= llabs(runs - (long long)r[1].enabled) <=
			       (long long)r[1].enabled / 100;
			counted &= llabs(counts - rounds) <= rotations;
			if (i == 1)
				tap_diag("member 1 + plain: %lld counts of %ld rounds, %lld rotations at most",
					 counts, rounds, rotations);
		}
		tap_ok(ok, "1 pinned, a flexible group of %d and a plain flexible one: each flexible one runs part of the time",
		       slots - 1);
		tap_ok(ok && same, "... and the group's members all run for the same time");
		tap_ok(ok && sum, "... and a member's and the plain one's running times add up to the time enabled");
		count_ok(ok && counted, "... and each counts part of the %ld rounds, a member's and the plain one's counts add up to every round (within one per rotation), the pinned one's to all",
			 rounds);
		if (plain >= 0)
			close(plain);
		close_all(fds, n);
	}

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || !GUEST_CPU_BOUND) {
		tap_skip(GUEST_CPU_BOUND ? "one CPU" : NO_CPU_BOUND,
			 "CPU 1: 1 pinned, then a flexible group");
		return;
	}
	n = open_group_share(slots, -1, 1, fds, "CPU 1");
	close_all(fds, n);
}

/*
 * A watchpoint in a group led by a hardware event lives in the CPU PMU's
 * context, which perf rotates on its own: it takes a register of its
 * own, like one in a cpu-clock group. Beside N-1 pinned watchpoints it
 * opens and counts every write, and a plain flexible one gets ENOSPC.
 */
static void test_hardware_group(int slots)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE, .size = sizeof(attr),
		.config = PERF_COUNT_HW_CPU_CYCLES, .disabled = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	int fds[MAX_EVENTS], n = 0, i, leader, grouped, plain, ok = 1;
	struct reading r;
	long rounds;

	leader = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (leader < 0) {
		tap_skip("no hardware cycles event",
			 "a watchpoint in a hardware-led group takes a register of its own");
		return;
	}
	for (i = 0; i < slots - 1; i++)
		fds[n++] = open_watch(i, 1, 0, -1);
	grouped = open_watch_in(slots - 1, 0, 0, -1, leader);
	/* As in test_foreign_group(): start the group whole. */
	ok &= !ioctl(leader, PERF_EVENT_IOC_ENABLE, 0);
	plain = open_watch(slots, 0, 0, -1);
	for (i = 0; i < n; i++)
		ok &= fds[i] >= 0;
	tap_ok(ok && grouped >= 0 && plain < 0 && errno == ENOSPC,
	       "%d pinned and a watchpoint in a hardware-led group: a plain flexible one gets ENOSPC (errno %d)",
	       slots - 1, plain < 0 ? errno : 0);
	rounds = write_rounds(slots);
	ok &= grouped >= 0 && !read_event(grouped, &r);
	if (ok)
		tap_diag("grouped: %llu of %ld, running %llu of %llu", r.value,
			 rounds, r.running, r.enabled);
	tap_ok(ok && r.running == r.enabled,
	       "... and the grouped one runs all the time");
	count_ok(ok && r.value == (unsigned long long)rounds,
		 "... and the grouped one counts all %ld writes", rounds);
	close_all(fds, n);
	if (grouped >= 0)
		close(grouped);
	if (plain >= 0)
		close(plain);
	close(leader);
}

/*
 * A group led by a disabled flexible watchpoint on words[i], joined by a
 * cycles event: perf moves the whole group into the CPU PMU's context,
 * after the watchpoint was counted as flexible. Returns the leader (the
 * cycles event in @cycles), or -1 with both closed.
 */
static int open_moved_group_on(int i, int pid, int cpu, int *cycles)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT, .size = sizeof(attr),
		.bp_type = GUEST_PERF_WATCH, .bp_len = 8,
		.bp_addr = (uintptr_t)&words[i], .disabled = 1,
		.exclude_kernel = 1, .exclude_hv = 1,
		.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			       PERF_FORMAT_TOTAL_TIME_RUNNING,
	};
	struct perf_event_attr hw = {
		.type = PERF_TYPE_HARDWARE, .size = sizeof(hw),
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	int leader = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, 0);

	*cycles = -1;
	if (leader < 0)
		return -1;
	*cycles = syscall(SYS_perf_event_open, &hw, pid, cpu, leader, 0);
	if (*cycles < 0) {
		close(leader);
		return -1;
	}
	return leader;
}

static int open_moved_group(int i, int *cycles)
{
	return open_moved_group_on(i, 0, -1, cycles);
}


/*
 * Moved groups keep the rules. N+1 plain flexible watchpoints, which the
 * breakpoint PMU's context rotates, and a moved group: the plain ones
 * make way at their next rotation, so the group gets in at its own
 * context's next one and runs at least half the time (perf rotates the
 * two contexts apart: without that the plain ones would take every
 * register back each time), and each plain one runs part of the time.
 * The same beside N plain ones opened first, which all fit and never
 * rotate: they are pushed out for it. And 1 pinned
 * watchpoint, a disabled pinned one and N-1 moved groups: enabling the
 * second pinned one, which reschedules the breakpoint PMU's events
 * alone, finds its register (the moved ones hold no more than their
 * share), and it counts every write; each moved group runs part of the
 * time. The same with N-1 moved groups of CPU 1 and this thread on CPU
 * 1 with a pinned watchpoint: a second pinned one opened finds its
 * register.
 */
static void test_moved_group(int slots)
{
	int fds[MAX_EVENTS], cyc[MAX_EVENTS], n = 0, i, ok = 1, runs = 1;
	struct reading r;
	long rounds;

	fds[0] = open_moved_group(0, &cyc[0]);
	if (fds[0] < 0) {
		tap_skip("no hardware cycles event",
			 "a watchpoint-led group joined by a cycles event runs beside N+1 plain flexible watchpoints");
		tap_skip("no hardware cycles event",
			 "a watchpoint-led group joined by a cycles event gets in beside N plain flexible watchpoints that all fit");
		tap_skip("no hardware cycles event",
			 "a watchpoint-led group joined by a cycles event leaves a pinned watchpoint its register");
		return;
	}
	for (i = 1; i <= slots + 1; i++) {
		fds[i] = open_watch(i, 0, 0, -1);
		ok &= fds[i] >= 0;
	}
	ok &= !ioctl(fds[0], PERF_EVENT_IOC_ENABLE, 0);
	rounds = write_rounds(slots + 2);
	ioctl(fds[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	for (i = 0; i <= slots + 1; i++) {
		if (i)
			ioctl(fds[i], PERF_EVENT_IOC_DISABLE, 0);
		if (read_event(fds[i], &r))
			memset(&r, 0, sizeof(r));
		/* The group may stay in once in: the plain ones cannot. */
		runs &= i ? r.running > 0 && r.running < r.enabled :
			    r.running >= r.enabled / 2;
		tap_diag("%s %d: %llu of %ld, running %llu of %llu",
			 i ? "plain" : "moved", i, r.value, rounds, r.running,
			 r.enabled);
	}
	tap_ok(ok && runs, "a watchpoint-led group joined by a cycles event runs beside N+1 plain flexible watchpoints, at least half the time, and each of them part of the time");
	close_all(fds, slots + 2);
	close(cyc[0]);

	/*
	 * N plain ones first, which all fit, so their context never
	 * rotates: they are pushed out when the moved group finds no
	 * register, and it gets in at its own context's next rotation.
	 */
	ok = 1;
	runs = 1;
	for (i = 1; i <= slots; i++) {
		fds[i] = open_watch(i, 0, 0, -1);
		ok &= fds[i] >= 0;
	}
	fds[0] = open_moved_group(0, &cyc[0]);
	ok &= fds[0] >= 0 && !ioctl(fds[0], PERF_EVENT_IOC_ENABLE, 0);
	rounds = write_rounds(slots + 1);
	if (fds[0] >= 0)
		ioctl(fds[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	for (i = 0; i <= slots; i++) {
		if (i)
			ioctl(fds[i], PERF_EVENT_IOC_DISABLE, 0);
		if (fds[i] < 0 || read_event(fds[i], &r))
			memset(&r, 0, sizeof(r));
		runs &= i ? r.running > 0 && r.running < r.enabled :
			    r.enabled && r.running >= r.enabled / 2;
		tap_diag("%s %d: %llu of %ld, running %llu of %llu",
			 i ? "plain" : "moved", i, r.value, rounds, r.running,
			 r.enabled);
	}
	tap_ok(ok && runs, "a watchpoint-led group joined by a cycles event gets in beside N plain flexible watchpoints that all fit: it runs at least half the time, and each of them part of the time");
	close_all(fds, slots + 1);
	if (cyc[0] >= 0)
		close(cyc[0]);

	ok = 1;
	runs = 1;
	fds[n++] = open_watch(0, 1, 0, -1);
	fds[n] = open_watch(1, 1, 0, -1);
	ok &= fds[n] >= 0 && !ioctl(fds[n], PERF_EVENT_IOC_DISABLE, 0);
	n++;
	for (i = 0; i < slots - 1; i++) {
		fds[n] = open_moved_group(2 + i, &cyc[i]);
		ok &= fds[n] >= 0 && !ioctl(fds[n], PERF_EVENT_IOC_ENABLE, 0);
		n++;
	}
	/* Every moved group in, as they fit: then the pinned one. */
	write_rounds(slots + 1);
	ok &= !ioctl(fds[1], PERF_EVENT_IOC_ENABLE, 0);
	rounds = write_rounds(slots + 1);
	for (i = 0; i < n; i++) {
		if (read_event(fds[i], &r))
			memset(&r, 0, sizeof(r));
		if (i == 1)
			ok &= r.running == r.enabled &&
			      (!GUEST_EVERY_HIT || r.value == (unsigned long long)rounds);
		else if (i > 1)
			runs &= r.running > 0 && r.running < r.enabled;
		tap_diag("%s %d: %llu of %ld, running %llu of %llu",
			 i < 2 ? "pinned" : "moved", i, r.value, rounds,
			 r.running, r.enabled);
	}
	tap_ok(ok, "a watchpoint-led group joined by a cycles event leaves a pinned watchpoint its register: with %d such groups, a second pinned one enabled runs all the time and counts all %ld writes",
	       slots - 1, rounds);
	tap_ok(ok && runs, "... and each such group runs part of the time");
	close_all(fds, n);
	for (i = 0; i < slots - 1; i++)
		if (cyc[i] >= 0)
			close(cyc[i]);

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || !GUEST_CPU_BOUND) {
		tap_skip(GUEST_CPU_BOUND ? "one CPU" : NO_CPU_BOUND,
			 "CPU 1's moved groups leave a pinned watchpoint of a task there its register");
		return;
	}
	ok = !pin_to(1);
	n = 0;
	fds[n++] = open_watch(0, 1, 0, -1);
	for (i = 0; i < slots - 1; i++) {
		fds[n] = open_moved_group_on(2 + i, -1, 1, &cyc[i]);
		ok &= fds[n] >= 0 && !ioctl(fds[n], PERF_EVENT_IOC_ENABLE, 0);
		n++;
	}
	write_rounds(1);
	fds[n] = open_watch(1, 1, 0, -1);
	ok &= fds[n] >= 0;
	rounds = write_rounds(2);
	if (fds[n] < 0 || read_event(fds[n], &r))
		memset(&r, 0, sizeof(r));
	n++;
	pin_to_all();
	tap_diag("pinned 1: %llu of %ld, running %llu of %llu", r.value,
		 rounds, r.running, r.enabled);
	tap_ok(ok && r.running == r.enabled &&
	       (!GUEST_EVERY_HIT || r.value == (unsigned long long)rounds),
	       "CPU 1's moved groups leave a pinned watchpoint of a task there its register: with %d of them, a second pinned one opened runs all the time and counts all %ld writes",
	       slots - 1, rounds);
	close_all(fds, n);
	for (i = 0; i < slots - 1; i++)
		if (cyc[i] >= 0)
			close(cyc[i]);
}

#define SLOTS_FILE	"/sys/kernel/debug/hw_breakpoint/slots"

/* How many registers a slots line's map shows held by kind @c (P or F). */
static int map_count(const char *map, char c)
{
	int n = 0;

	for (; *map; map++)
		n += *map == c;
	return n;
}

/*
 * <debugfs>/hw_breakpoint/slots against a known set: this task with two
 * pinned and three flexible watchpoints (its use: 2 + a share of 1), and
 * one pinned CPU-bound watchpoint on CPU 1. Read from CPU 0, where this
 * task's watchpoints are installed while it reads: CPU 0's register map
 * shows its 2 pinned ones and as many flexible ones as fit, CPU 1's only
 * the CPU-bound one.
 */
static void test_slots(int slots)
{
	int fds[8], n = 0, i, pid = getpid(), found_task = 0, found_cpu = 0;
	int found_map = 0;
	const char *type = "data";
	char line[256], want[128], comm[32];
	FILE *f;

#if defined(__x86_64__)
	type = "shared";
#endif
	for (i = 0; i < 5; i++)
		fds[n++] = open_watch(i, i < 2, 0, -1);
	if (GUEST_CPU_BOUND)
		fds[n++] = open_watch(5, 1, -1, 1);
	for (i = 0; i < n && fds[i] >= 0; i++)
		;
	if (!tap_ok(i == n, "a known set of %d watchpoints opens", n) ||
	    access(SLOTS_FILE, R_OK)) {
		tap_skip("no set, or no " SLOTS_FILE, "the slots file lists them");
		close_all(fds, n);
		return;
	}
	f = fopen("/proc/self/comm", "r");
	if (!f || !fgets(comm, sizeof(comm), f))
		strcpy(comm, "?");
	if (f)
		fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	snprintf(want, sizeof(want),
		 "task %d %s %s: every cpu 3 (pinned 2 flexible 1)\n", pid,
		 comm, type);
	if (pin_to(0))
		tap_diag("cannot run on CPU 0 alone: %s", strerror(errno));
	f = fopen(SLOTS_FILE, "r");
	while (fgets(line, sizeof(line), f)) {
		int cpu, regs, bound, pinned, flex, busiest, left, installed;
		char t[16], map[32];

		tap_diag("slots: %.*s", (int)strcspn(line, "\n"), line);
		if (!strcmp(line, want))
			found_task++;
		if (sscanf(line, "%d %15s %d %d %d %d %d %d %d %31s", &cpu, t,
			   &regs, &bound, &pinned, &flex, &busiest, &left,
			   &installed, map) != 10 || strcmp(t, type) ||
		    (int)strlen(map) != regs || cpu > 1)
			continue;
		if (cpu == 1 && regs == slots && bound == 1 && pinned == 1 &&
		    flex == 0 && busiest >= 3 && left == slots - 1 - busiest)
			found_cpu++;
		if (cpu == 1 && installed == 1 && map_count(map, 'P') == 1 &&
		    !map_count(map, 'F'))
			found_map |= 2;
		if (cpu == 0 && map_count(map, 'P') == 2 &&
		    map_count(map, 'F') == (slots - 2 < 3 ? slots - 2 : 3) &&
		    installed == map_count(map, 'P') + map_count(map, 'F'))
			found_map |= 1;
	}
	fclose(f);
	pin_to_all();
	tap_ok(found_task == 1, "slots: this task's line, its use 3 of which 1 a flexible share (%d found)",
	       found_task);
	tap_ok(found_map & 1, "slots: CPU 0's map, where this task runs, holds its 2 pinned and %d flexible watchpoints",
	       slots - 2 < 3 ? slots - 2 : 3);
	if (GUEST_CPU_BOUND) {
		tap_ok(found_cpu == 1, "slots: CPU 1 holds 1 pinned CPU-bound register, the busiest task 3, and the rest is free (%d found)",
		       found_cpu);
		tap_ok(found_map & 2, "slots: CPU 1's map holds the CPU-bound one alone");
	} else {
		tap_skip(NO_CPU_BOUND, "slots: CPU 1 holds 1 pinned CPU-bound register, the busiest task 3, and the rest is free");
		tap_skip(NO_CPU_BOUND, "slots: CPU 1's map holds the CPU-bound one alone");
	}
	close_all(fds, n);

	found_task = 0;
	f = fopen(SLOTS_FILE, "r");
	while (f && fgets(line, sizeof(line), f))
		found_task += !strncmp(line, "task ", 5);
	if (f)
		fclose(f);
	tap_ok(!found_task, "slots: no task lines once they are closed (%d)",
	       found_task);
}

int main(void)
{
	int slots = guest_nr_data_slots(), caps_w, caps_b, shared;
	int expect_shared = 0;

#if defined(__x86_64__)
	expect_shared = 1;
#endif
	check_installed("at the start");
	caps_w = read_cap("caps/watchpoints");
	caps_b = read_cap("caps/breakpoints");
	shared = read_cap("caps/shared");
	tap_ok(slots > 0 && caps_w == slots,
	       "caps/watchpoints %d: the registers ptrace reports (%d)", caps_w,
	       slots);
	tap_ok(caps_b > 0 && (!expect_shared || caps_b == slots),
	       "caps/breakpoints %d (x86: the same pool as watchpoints)", caps_b);
	tap_ok(shared == expect_shared, "caps/shared %d", shared);
	tap_ok(MAX_WATCH_LEN ?
	       guest_read_ull(PMU_DIR "caps/max_watch_len") == MAX_WATCH_LEN :
	       access(PMU_DIR "caps/max_watch_len", F_OK) && errno == ENOENT,
	       "caps/max_watch_len %llu (x86 32: a range over 4 registers; arm64 2 GiB: MASK blocks; arm: absent, the arch does not say)",
	       guest_read_ull(PMU_DIR "caps/max_watch_len"));
	tap_ok(pinned_fit() == caps_w, "caps/watchpoints: as many pinned watchpoints fit in this thread (%d)",
	       caps_w);
	tap_ok(read_cap("flexible") == 1, "flexible mode is on by default");
	if (slots < 2 || 2 * slots > MAX_EVENTS)
		tap_bail("%d data registers: outside what the suite handles", slots);

	test_admission(slots);
	check_installed("after the admission cases");
	test_multiplex(slots, 0, 2 * slots, 0.20);
	check_installed("after 2N flexible");
	test_multiplex(slots, slots - 1, 5, 0.25);
	check_installed("after N-1 pinned + 5 flexible");
	test_cpu_bound(slots);
	check_installed("after the CPU-bound cases");
	test_groups(slots);
	check_installed("after the groups");
	test_group_share(slots);
	check_installed("after the group shares");
	test_hardware_group(slots);
	check_installed("after the hardware-led group");
	test_moved_group(slots);
	check_installed("after the moved groups");
	test_slots(slots);
	test_switch(slots);
	check_installed("at the end");
	guest_check_in_use();
	return tap_done();
}
