// SPDX-License-Identifier: GPL-2.0
/*
 * Failure injection: make the n-th slab allocation of a breakpoint request
 * fail (CONFIG_FAILSLAB, /proc/thread-self/fail-nth), for every n until the
 * request no longer allocates, and check that the error reaches the caller
 * (ENOMEM, no half-made breakpoint) and that nothing leaks: every slot is
 * free afterwards and, where the kernel has kmemleak, it reports no object
 * allocated by the breakpoint or perf code since boot (the suites before
 * this one included).
 *
 * Requests: a task watchpoint, a CPU-bound watchpoint, a task watchpoint
 * bound to one CPU, an inherited one in a forked child, a modification of
 * a watchpoint (PERF_EVENT_IOC_MODIFY_ATTRIBUTES), and a ptrace write of
 * the debug registers.
 */
#include <fcntl.h>
#include <stdio.h>
#include "tap.h"
#include "hwbp_guest.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define MAX_NTH		400

static volatile uint64_t var[4] __attribute__((aligned(8)));

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* Arm the n-th allocation from now to fail; returns the fail-nth fd. */
static int arm_fault(int n)
{
	char buf[16];
	int fd = open(FAIL_NTH, O_RDWR);

	if (fd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d", n);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Disarm; returns 1 if the fault was consumed (an allocation failed). */
static int disarm_fault(int fd)
{
	char buf[16] = "";
	int left;

	lseek(fd, 0, SEEK_SET);
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		left = -1;
	else
		left = atoi(buf);
	lseek(fd, 0, SEEK_SET);
	if (write(fd, "0", 1) != 1)
		left = -1;
	close(fd);
	return left == 0;
}

static struct perf_event_attr watch_attr(void)
{
	struct perf_event_attr attr = {
		.sample_period = 1, .exclude_kernel = 1, .exclude_hv = 1,
	};

	return attr;
}

/* Each request returns 0 or -errno, and undoes what it made. */
static int req_task(void)
{
	struct perf_event_attr attr = watch_attr();
	int fd = perf_bp_open((void *)&var[0], HW_BREAKPOINT_W, 8, 0, -1, &attr);

	if (fd < 0)
		return -errno;
	var[0]++;
	close(fd);
	return 0;
}

static int req_cpu(void)
{
	struct perf_event_attr attr = watch_attr();
	int fd = perf_bp_open((void *)&var[1], HW_BREAKPOINT_W, 8, -1, 0, &attr);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int req_task_one_cpu(void)
{
	struct perf_event_attr attr = watch_attr();
	int fd = perf_bp_open((void *)&var[2], HW_BREAKPOINT_RW, 4, 0, 1, &attr);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int req_inherit(void)
{
	struct perf_event_attr attr = watch_attr();
	int fd, status;
	pid_t pid;

	attr.inherit = 1;
	fd = perf_bp_open((void *)&var[3], HW_BREAKPOINT_W, 8, 0, -1, &attr);
	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		var[3]++;
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	close(fd);
	return pid < 0 ? -errno : 0;
}

static int req_modify(void)
{
	struct perf_event_attr attr = watch_attr();
	int fd = perf_bp_open((void *)&var[0], HW_BREAKPOINT_W, 8, 0, -1, &attr);
	int ret = 0;

	if (fd < 0)
		return -errno;
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = HW_BREAKPOINT_W;
	attr.bp_addr = (uintptr_t)&var[1];
	attr.bp_len = 8;
	if (ioctl(fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr))
		ret = -errno;
	close(fd);
	return ret;
}

static void traced_idle(void)
{
	pause();
}

/* The fault is armed in the tracer, which makes the ptrace call. */
static pid_t tracee;

static int req_ptrace(void)
{
	int ret = guest_ptrace_watch(tracee, (void *)&var[0], 8,
				     GUEST_WATCH_WRITE);

	if (!ret)
		ret = guest_ptrace_clear(tracee);
	return ret;
}

/*
 * @allocates: the request allocates from slab every time, so some failure
 * must be injected (the ptrace one reuses the tracee's event after the
 * first success).
 */
static const struct {
	const char *name;
	int (*fn)(void);
	int allocates;
} requests[] = {
	{ "task watchpoint", req_task, 1 },
	{ "CPU-bound watchpoint", req_cpu, 1 },
	{ "task watchpoint on one CPU", req_task_one_cpu, 1 },
	{ "inherited watchpoint", req_inherit, 1 },
	{ "modified watchpoint", req_modify, 1 },
	{ "ptrace debug-register write", req_ptrace, 0 },
};

static void run_request(unsigned int r)
{
	int n, fd, consumed, ret, bad = 0, failed = 0, first_bad_ret = 0;

	for (n = 1; n <= MAX_NTH; n++) {
		fd = arm_fault(n);
		if (fd < 0)
			break;
		ret = requests[r].fn();
		consumed = disarm_fault(fd);
		if (!consumed) {
			/* Fewer than n allocations: the request is covered. */
			if (ret) {
				bad++;
				first_bad_ret = ret;
			}
			break;
		}
		failed++;
		/* An allocation failed: success or a clean ENOMEM. */
		if (ret && ret != -ENOMEM && ret != -EINTR) {
			if (!bad++)
				first_bad_ret = ret;
		}
	}
	tap_ok(n <= MAX_NTH && !bad && (failed || !requests[r].allocates),
	       "%s: %d allocations failed one by one, each gave success or ENOMEM (%d wrong, first %d)",
	       requests[r].name, failed, bad, first_bad_ret);
	/* Nothing held: the next request must be able to use the slots. */
	ret = requests[r].fn();
	tap_ok(ret == 0, "%s works again afterwards (%d)", requests[r].name, ret);
}

/* kmemleak's report, filtered to objects the breakpoint paths allocated. */
static void check_kmemleak(void)
{
	static char report[1 << 16];
	int fd, n, ours = 0;
	char *p;

	if (write_file(KMEMLEAK, "scan")) {
		tap_skip("no kmemleak in this kernel", "kmemleak: no leak");
		return;
	}
	sleep(1);
	write_file(KMEMLEAK, "scan");
	fd = open(KMEMLEAK, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, report, sizeof(report) - 1);
	if (fd >= 0)
		close(fd);
	report[n > 0 ? n : 0] = 0;
	for (p = report; (p = strstr(p, "unreferenced object")); p++) {
		char *end = strstr(p + 1, "unreferenced object");
		char save = 0;

		if (end) {
			save = *end;
			*end = 0;
		}
		if (strstr(p, "hw_breakpoint") || strstr(p, "perf_event") ||
		    strstr(p, "bp_")) {
			if (!ours++)
				tap_diag("%s", p);
		}
		if (end)
			*end = save;
	}
	tap_ok(ours == 0, "kmemleak: %d leaked objects from the breakpoint or perf paths",
	       ours);
}

int main(void)
{
	unsigned int r;
	int fd = open(FAIL_NTH, O_RDWR);

	if (fd < 0) {
		tap_skip("the kernel has no CONFIG_FAULT_INJECTION (" FAIL_NTH ")",
			 "failure injection");
		return tap_done();
	}
	close(fd);
	/*
	 * failslab spares allocations that may sleep unless told otherwise,
	 * and would print a stack trace for each failure it injects.
	 */
	tap_ok(!write_file(FAILSLAB "ignore-gfp-wait", "N") &&
	       !write_file(FAILSLAB "verbose", "0"),
	       "failslab fails sleeping allocations too, quietly");
	/*
	 * kmemleak is not cleared: in the KCSAN variant this suite runs last,
	 * so its scan also covers what smoke, fuzz and stress allocated.
	 */

	tracee = guest_spawn_traced(traced_idle);
	tap_ok(tracee > 0, "traced child for the ptrace requests");
	for (r = 0; r < sizeof(requests) / sizeof(requests[0]); r++) {
		if (requests[r].fn == req_ptrace && tracee <= 0)
			continue;
		run_request(r);
	}
	if (tracee > 0) {
		kill(tracee, SIGKILL);
		waitpid(tracee, NULL, 0);
	}
	guest_check_all_free();
	check_kmemleak();
	return tap_done();
}
