// SPDX-License-Identifier: GPL-2.0
/*
 * "make run": show a watchpoint firing, once through perf_event_open (who
 * wrote the variable, sampled from the ring buffer) and once through
 * ptrace, the way a debugger sets it; then flexible and range
 * watchpoints, and a watch probe on a kernel variable from tracefs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <time.h>
#include "hwbp_guest.h"

#define RING_PAGES	8

static volatile unsigned long counter __attribute__((aligned(8)));

static noinline void writer_alpha(int n)
{
	for (int i = 0; i < n; i++)
		counter += 1;
}

static noinline void writer_beta(int n)
{
	for (int i = 0; i < n; i++)
		counter += 2;
}

static noinline void reader(int n)
{
	unsigned long sum = 0;

	for (int i = 0; i < n; i++)
		sum += counter;
	asm volatile("" : : "r"(sum));
}

static noinline void writer_end(void)
{
}

/* Attribute a sample IP to one of the functions above by address. */
static const char *who(uint64_t ip)
{
	static const struct {
		const char *name;
		uintptr_t start;
	} fns[] = {
		{ "writer_alpha", (uintptr_t)writer_alpha },
		{ "writer_beta", (uintptr_t)writer_beta },
		{ "reader", (uintptr_t)reader },
		{ "writer_end", (uintptr_t)writer_end },
	};
	const char *best = "?";
	uintptr_t best_start = 0;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (fns[i].start <= ip && fns[i].start >= best_start) {
			best = fns[i].name;
			best_start = fns[i].start;
		}
	}
	return best;
}

static int demo_perf(void)
{
	struct perf_event_attr attr = {
		.sample_period = 1,
		.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.disabled = 1,
	};
	size_t len = (RING_PAGES + 1) * getpagesize();
	unsigned long alpha = 0, beta = 0, other = 0;
	struct perf_event_mmap_page *meta;
	char *data;
	uint64_t head, off;
	int fd;

	printf("== perf_event_open: write watchpoint on counter at %p\n",
	       (void *)&counter);
	fd = perf_bp_open((const void *)&counter, HW_BREAKPOINT_W,
			  sizeof(counter), 0, -1, &attr);
	if (fd < 0) {
		perror("perf_event_open");
		return 1;
	}
	meta = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (meta == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	writer_alpha(3);
	reader(10);
	writer_beta(5);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);

	printf("   counter = %lu, the event counted %lld writes (the reads are not counted)\n",
	       counter, perf_count(fd));
	data = (char *)meta + meta->data_offset;
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	for (off = meta->data_tail; off < head;) {
		struct perf_event_header *h =
			(void *)(data + off % meta->data_size);

		if (h->type == PERF_RECORD_SAMPLE) {
			uint64_t *ip = (uint64_t *)(h + 1);
			uint32_t *tid = (uint32_t *)(ip + 1);
			const char *fn = who(*ip);

			printf("   hit: ip=%#llx in %-12s pid=%u tid=%u\n",
			       (unsigned long long)*ip, fn, tid[0], tid[1]);
			if (!strcmp(fn, "writer_alpha"))
				alpha++;
			else if (!strcmp(fn, "writer_beta"))
				beta++;
			else
				other++;
		}
		off += h->size;
	}
	printf("   samples: writer_alpha %lu, writer_beta %lu, elsewhere %lu\n",
	       alpha, beta, other);
	munmap(meta, len);
	close(fd);
	return !(alpha == 3 && beta == 5 && other == 0);
}

static void child_work(void)
{
	writer_beta(1);
}

static int demo_ptrace(void)
{
	siginfo_t si;
	int status, ret;
	pid_t pid;

	printf("== ptrace: a debugger watches counter in a traced child\n");
	counter = 0;
	pid = guest_spawn_traced(child_work);
	if (pid < 0) {
		perror("fork/ptrace");
		return 1;
	}
	ret = guest_ptrace_watch(pid, (const void *)&counter, sizeof(counter),
				 GUEST_WATCH_WRITE);
	if (ret) {
		printf("   setting the watchpoint failed: %s\n", strerror(-ret));
		return 1;
	}
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	if (!WIFSTOPPED(status)) {
		printf("   child did not stop (status %#x)\n", status);
		return 1;
	}
	ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
	errno = 0;
	printf("   child %d stopped: signal %d (%s), si_code %d%s\n", pid,
	       WSTOPSIG(status), strsignal(WSTOPSIG(status)), si.si_code,
	       si.si_code == TRAP_HWBKPT ? " (TRAP_HWBKPT)" : "");
#if defined(__x86_64__)
	printf("   DR6 = %#lx, new value %#lx\n", guest_peek_dr(pid, 6),
	       ptrace(PTRACE_PEEKDATA, pid, (void *)&counter, 0));
#else
	printf("   si_addr = %p, new value %#lx\n", si.si_addr,
	       ptrace(PTRACE_PEEKDATA, pid, (void *)&counter, 0));
#endif
	guest_ptrace_clear(pid);
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	return !(WIFEXITED(status) && si.si_code == TRAP_HWBKPT);
}

#define FLEX_N		8
#define FLEX_ROUNDS	20000

/* Eight words, and an unwatched one after them on the same page. */
static volatile struct {
	uint64_t	w[FLEX_N];
	uint64_t	scrub;
} flex_page __attribute__((aligned(128)));

static int read_sysfs_int(const char *path)
{
	int v;

	return guest_read_int(path, &v) ? -1 : v;
}

/*
 * More watchpoints than registers: non-pinned ones are flexible, perf
 * multiplexes them and scales each count by time_enabled/time_running.
 */
static int demo_flexible(void)
{
	const char *pmu = "/sys/bus/event_source/devices/breakpoint/";
	struct perf_event_attr attr = {
		.exclude_kernel = 1, .exclude_hv = 1,
		.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			       PERF_FORMAT_TOTAL_TIME_RUNNING,
	};
	char path[128];
	int fds[FLEX_N], i, regs, bad = 0;

	snprintf(path, sizeof(path), "%scaps/watchpoints", pmu);
	regs = read_sysfs_int(path);
	snprintf(path, sizeof(path), "%sflexible", pmu);
	printf("== flexible watchpoints: %d watchpoints on %d registers (caps/watchpoints), flexible mode %d\n",
	       FLEX_N, regs, read_sysfs_int(path));
	for (i = 0; i < FLEX_N; i++) {
		fds[i] = perf_bp_open((const void *)&flex_page.w[i],
				      HW_BREAKPOINT_W, 8, 0, -1, &attr);
		if (fds[i] < 0) {
			printf("   watchpoint %d: %s (the kernel reserves a register per breakpoint)\n",
			       i, strerror(errno));
			while (i--)
				close(fds[i]);
			return 1;
		}
	}
	for (long r = 1; r <= FLEX_ROUNDS; r++) {
		for (i = 0; i < FLEX_N; i++) {
			flex_page.w[i] = r;
			/* QEMU's x86 TCG keeps stale hit flags without it. */
			flex_page.scrub = r;
		}
	}
	for (i = 0; i < FLEX_N; i++) {
		unsigned long long v[3] = { 0 };
		double run, est;

		if (read(fds[i], v, sizeof(v)) != sizeof(v))
			bad = 1;
		run = v[1] ? (double)v[2] / v[1] : 0;
		est = v[2] ? (double)v[0] * v[1] / v[2] : 0;
		printf("   word %d: counted %6llu while on a register %4.1f%% of the time, scaled %6.0f of %d writes\n",
		       i, v[0], 100 * run, est, FLEX_ROUNDS);
		if (est < FLEX_ROUNDS * 0.8 || est > FLEX_ROUNDS * 1.2)
			bad = 1;
		close(fds[i]);
	}
	return bad;
}

#if defined(__x86_64__)
/* A 13-byte struct member: not a length DR7 has, nor aligned to one. */
static volatile struct {
	uint64_t	before;
	char		pad[3];
	char		name[13];
	uint64_t	after;
	uint64_t	scrub;
} range_page __attribute__((aligned(64)));

/*
 * One watchpoint on a range no debug register covers: x86 splits it into
 * aligned pieces, one register each, and counts each access once.
 */
static int demo_range(void)
{
	int fd, i, max_len = -1;
	long long n;

	guest_read_int("/sys/bus/event_source/devices/breakpoint/caps/max_watch_len",
		       &max_len);
	printf("== range watchpoint: 13 bytes at %p (caps/max_watch_len %d)\n",
	       (void *)range_page.name, max_len);
	fd = perf_bp_open((const void *)range_page.name, HW_BREAKPOINT_W, 13, 0,
			  -1, NULL);
	if (fd < 0) {
		printf("   %s (one register watches at most 8 aligned bytes)\n",
		       strerror(errno));
		return 1;
	}
	for (i = 0; i < 13; i++) {
		range_page.name[i] = 'a' + i;
		range_page.scrub = i;
	}
	range_page.before = 1;
	range_page.after = 1;
	range_page.scrub = 0;
	n = perf_count(fd);
	printf("   13 writes, one to each byte, and one on each side: counted %lld\n",
	       n);
	close(fd);
	return n != 13;
}
#else
static int demo_range(void)
{
	return 0;
}
#endif

#define TRACEFS	"/sys/kernel/tracing"

/* As the shell's ">>": glibc's fopen("a") seeks, which tracefs refuses. */
static int tracefs_write(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_APPEND);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * A watch probe from the shell's point of view: the kernel's writes of
 * jiffies for a second, each with the writer's ip and the value.
 */
static int demo_wprobe(void)
{
	const char *def = "w:jw w@jiffies v=$value\n";
	char line[512];
	time_t end;
	int n = 0;
	FILE *f;

	mount("nodev", TRACEFS, "tracefs", 0, NULL);
	printf("== watch probe (tracefs): echo '%.*s' >> dynamic_events\n",
	       (int)strlen(def) - 1, def);
	tracefs_write(TRACEFS "/trace", "");
	if (tracefs_write(TRACEFS "/dynamic_events", def)) {
		printf("   %s (no watch-probe events in this kernel)\n",
		       strerror(errno));
		f = fopen(TRACEFS "/error_log", "r");
		while (f && fgets(line, sizeof(line), f))
			printf("   %s", line);
		if (f)
			fclose(f);
		return 1;
	}
	if (tracefs_write(TRACEFS "/events/wprobes/jw/enable", "1")) {
		printf("   enable: %s\n", strerror(errno));
		tracefs_write(TRACEFS "/dynamic_events", "-:wprobes/jw\n");
		return 1;
	}
	for (end = time(NULL) + 1; time(NULL) <= end;)
		;	/* a busy CPU ticks every jiffy */
	tracefs_write(TRACEFS "/events/wprobes/jw/enable", "0");
	f = fopen(TRACEFS "/trace", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, " jw: ("))
			continue;
		if (n++ < 3)
			printf("   %s", line);
	}
	if (f)
		fclose(f);
	printf("   ... %d writes of jiffies in about a second, by the tick\n", n);
	tracefs_write(TRACEFS "/dynamic_events", "-:wprobes/jw\n");
	return n == 0;
}

int main(void)
{
	int bad = demo_perf();

	bad |= demo_ptrace();
	bad |= demo_flexible();
	bad |= demo_range();
	bad |= demo_wprobe();
	printf("== demo %s\n", bad ? "FAILED" : "done: every watchpoint fired");
	writer_end();
	return bad;
}
