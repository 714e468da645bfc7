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
 */
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include "tap.h"
#include "hwbp_guest.h"

#define PMU_DIR		"/sys/bus/event_source/devices/breakpoint/"
#define MAX_EVENTS	16
#define RUN_NS		1500000000LL	/* guest time each loop runs */

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
 * @cpu (or any), in the group of @group (or its own).
 */
static int open_watch_in(int i, int pinned, int pid, int cpu, int group)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT, .size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W, .bp_len = 8,
		.bp_addr = (uintptr_t)&words[i],
		.exclude_kernel = 1, .exclude_hv = 1, .pinned = pinned,
		.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			       PERF_FORMAT_TOTAL_TIME_RUNNING,
	};

	return syscall(SYS_perf_event_open, &attr, pid, cpu, group, 0);
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

/* Write words[0 .. n-1] in turn for RUN_NS; returns the rounds made. */
static noinline long write_rounds(int n)
{
	long long end = now_ns() + RUN_NS;
	long rounds = 0;
	int i;

	while (now_ns() < end) {
		for (int k = 0; k < 64; k++) {
			for (i = 0; i < n; i++) {
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
		tap_ok(exact, "%d pinned + %d flexible: the pinned ones run all the time and count all %ld writes",
		       npinned, nflex, rounds);
	tap_ok(partial, "%d pinned + %d flexible: each flexible one runs part of the time (0 < running < enabled)",
	       npinned, nflex);
	tap_ok(sum > expect_sum * 0.8 && sum < expect_sum * 1.2 + 0.05,
	       "%d pinned + %d flexible: running fractions add up to %.2f, the %.0f registers left",
	       npinned, nflex, sum, expect_sum);
	tap_ok(scaled_ok, "%d pinned + %d flexible: every scaled count within %.0f%% of %ld",
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

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		tap_skip("one CPU", "CPU-bound pinned watchpoints on CPU 0 fill it");
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

/* A cpu-clock group leader on this thread, pinned or not. */
static int open_leader(int pinned)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK, .pinned = pinned,
		.exclude_kernel = 1, .exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

/*
 * The group leader decides: watchpoints (attr.pinned clear, as members
 * must have it) in a group led by a pinned event are pinned, each taking
 * a register; in a group led by a flexible one, flexible.
 */
static void test_groups(int slots)
{
	int fds[MAX_EVENTS], n, i, fd, leader;

	for (int pinned = 1; pinned >= 0; pinned--) {
		leader = open_leader(pinned);
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
		if (pinned)
			tap_ok(i == n && fd < 0 && errno == ENOSPC,
			       "led by a pinned event: %d watchpoints fit, the next gets ENOSPC (%d opened, errno %d)",
			       slots, i, fd < 0 ? errno : 0);
		else
			tap_ok(i == n && fd >= 0,
			       "led by a flexible event: %d watchpoints are flexible and all open (errno %d)",
			       slots + 1, fd < 0 ? errno : 0);
		if (fd >= 0)
			close(fd);
		close_all(fds, n);
		close(leader);
	}
}

/*
 * A flexible watchpoint in a group led by a hardware event lives in the
 * CPU PMU's context, not the software one: with N-1 pinned watchpoints,
 * it and a plain flexible watchpoint share the last register, and each
 * must run part of the time and count within 25% once scaled.
 */
static void test_hardware_group(int slots)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE, .size = sizeof(attr),
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.exclude_kernel = 1, .exclude_hv = 1,
	};
	int fds[MAX_EVENTS], n = 0, i, leader, grouped, plain, ok = 1;
	struct reading r[2];
	long rounds;

	leader = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (leader < 0) {
		tap_skip("no hardware cycles event",
			 "a hardware-led group's flexible watchpoint and a plain one share the last register");
		return;
	}
	for (i = 0; i < slots - 1; i++)
		fds[n++] = open_watch(i, 1, 0, -1);
	grouped = open_watch_in(slots - 1, 0, 0, -1, leader);
	plain = open_watch(slots, 0, 0, -1);
	for (i = 0; i < n; i++)
		ok &= fds[i] >= 0;
	if (!tap_ok(ok && grouped >= 0 && plain >= 0,
		    "%d pinned, a flexible one in a hardware-led group and a plain flexible one open",
		    slots - 1)) {
		close_all(fds, n);
		if (grouped >= 0)
			close(grouped);
		if (plain >= 0)
			close(plain);
		close(leader);
		return;
	}
	rounds = write_rounds(slots + 1);
	ok = !read_event(grouped, &r[0]) && !read_event(plain, &r[1]);
	for (i = 0; i < 2; i++) {
		double scaled = r[i].running ?
			(double)r[i].value * r[i].enabled / r[i].running : 0;

		tap_diag("%s: %llu of %ld, running %llu of %llu, scaled %.0f",
			 i ? "plain" : "grouped", r[i].value, rounds,
			 r[i].running, r[i].enabled, scaled);
		ok &= r[i].running > 0 && r[i].running < r[i].enabled &&
		      scaled > rounds * 0.75 && scaled < rounds * 1.25;
	}
	tap_ok(ok, "a hardware-led group's flexible watchpoint and a plain one share the last register: each runs part of the time, scaled within 25%%");
	close_all(fds, n);
	close(grouped);
	close(plain);
	close(leader);
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
	fds[n++] = open_watch(5, 1, -1, 1);
	for (i = 0; i < n && fds[i] >= 0; i++)
		;
	if (!tap_ok(i == n, "a known set of 6 watchpoints opens") ||
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
	tap_ok(found_cpu == 1, "slots: CPU 1 holds 1 pinned CPU-bound register, the busiest task 3, and the rest is free (%d found)",
	       found_cpu);
	tap_ok(found_map & 1, "slots: CPU 0's map, where this task runs, holds its 2 pinned and %d flexible watchpoints",
	       slots - 2 < 3 ? slots - 2 : 3);
	tap_ok(found_map & 2, "slots: CPU 1's map holds the CPU-bound one alone");
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
	tap_ok(read_cap("caps/max_watch_len") == (expect_shared ? 32 : 8),
	       "caps/max_watch_len %d (x86 32: a range over 4 registers; arm64 8)",
	       read_cap("caps/max_watch_len"));
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
	test_hardware_group(slots);
	check_installed("after the hardware-led group");
	test_slots(slots);
	test_switch(slots);
	check_installed("at the end");
	guest_check_in_use();
	return tap_done();
}
