// SPDX-License-Identifier: GPL-2.0
/*
 * bpbench: the user-space workloads of make bench, one static program.
 *
 *   bpbench thread P T B REPS   P processes of T threads, each thread
 *                               holding B watchpoints on itself at once:
 *                               wall time of the whole run (us)
 *   bpbench hits MODE N REPS    N writes to one word, watched by a
 *                               counting event (MODE count) or not
 *                               (MODE none): ns per write
 *   bpbench pingpong B N REPS   two threads on one CPU passing a byte
 *                               through pipes N times, each holding B
 *                               watchpoints that never fire: ns per
 *                               round trip (two context switches)
 *   bpbench inherit P T B KIND REPS
 *                               perf bench breakpoint thread's shape: the
 *                               main thread opens B inherited events on
 *                               itself (KIND bp: read/write watchpoints
 *                               of 1 byte, as perf bench opens; KIND sw:
 *                               counting cpu-clock events, the perf
 *                               core's inheritance without any slot),
 *                               then P threads each create and join T
 *                               threads at once: us per thread created
 *   bpbench spin B N REPS       N iterations of a loop that stores to an
 *                               unwatched word while the thread holds B
 *                               non-pinned watchpoints that never fire:
 *                               ns per iteration. With more than the
 *                               registers (B 8 on 4), perf rotates them
 *                               every mux interval: B 8 against B 4 is
 *                               the cost of rotation
 *   bpbench ptrace N REPS       a debugger arming and disarming one
 *                               watchpoint of a stopped tracee N times
 *                               (x86: POKEUSER of DR7; arm64: SETREGSET
 *                               of NT_ARM_HW_WATCH), as rr does between
 *                               every two stops: ns per write
 *
 * Each prints one line "@@@ BENCH <key> <median of REPS>" for the host
 * (bench/bench.py), or "@@@ BENCHERR <key> <why>". make bench runs the
 * guests under QEMU's -icount, where the guest's clock counts executed
 * instructions, so the repetitions differ by the guest's own variation
 * (scheduling, timer ticks), not by the host's load: the median, not the
 * fastest, is the figure.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <linux/elf.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#define MAX_REPS 16
#define MAX_BPS 4
#define MAX_SPAWNERS 256
#define MAX_BATCH 256

static char key[96];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void fail(const char *why)
{
	printf("@@@ BENCHERR %s %s (errno %d %s)\n", key, why, errno,
	       strerror(errno));
	fflush(stdout);
	exit(1);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(double *v, int n)
{
	int i;

	qsort(v, n, sizeof(*v), by_value);
	printf("@@@ BENCH %s %.3f\n", key,
	       n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
	printf("# %s reps:", key);
	for (i = 0; i < n; i++)
		printf(" %.3f", v[i]);
	printf("\n");
	fflush(stdout);
}

/* A write watchpoint on @addr for the calling thread, user mode only. */
static int watch_self(volatile void *addr, int counting)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = HW_BREAKPOINT_W;
	attr.bp_addr = (uintptr_t)addr;
	attr.bp_len = HW_BREAKPOINT_LEN_8;
	attr.sample_period = counting ? 0 : 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

/* ---- thread: setting up many tasks' breakpoints ---- */

struct worker {
	pthread_barrier_t	*all_armed;
	int			nr_bps;
	int			failed;
	/* Each watchpoint on a word of its own. */
	volatile uint64_t	words[MAX_BPS];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int fds[MAX_BPS], i;

	for (i = 0; i < w->nr_bps; i++) {
		fds[i] = watch_self(&w->words[i], 0);
		if (fds[i] < 0)
			w->failed = errno;
	}
	/* Every thread of the process holds its breakpoints at once. */
	pthread_barrier_wait(w->all_armed);
	for (i = 0; i < w->nr_bps; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

static int one_process(int threads, int bps)
{
	pthread_barrier_t barrier;
	struct worker *w = calloc(threads, sizeof(*w));
	pthread_t *tids = calloc(threads, sizeof(*tids));
	int i, failed = 0;

	if (!w || !tids)
		return ENOMEM;
	pthread_barrier_init(&barrier, NULL, threads);
	for (i = 0; i < threads; i++) {
		w[i].all_armed = &barrier;
		w[i].nr_bps = bps;
		if (pthread_create(&tids[i], NULL, worker_main, &w[i]))
			return EAGAIN;
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		if (w[i].failed)
			failed = w[i].failed;
	}
	return failed;
}

static double thread_round(int procs, int threads, int bps)
{
	double start = now_ns();
	int i, status, bad = 0;
	pid_t pid;

	for (i = 0; i < procs; i++) {
		pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid == 0)
			_exit(one_process(threads, bps));
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (bad) {
		errno = bad > 0 ? bad : 0;
		fail("a worker failed");
	}
	return (now_ns() - start) / 1e3;
}

/* ---- inherit: what inheriting B events adds to creating a thread ---- */

static int open_inherited(volatile void *addr, int bp)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.inherit = 1;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	if (bp) {
		attr.type = PERF_TYPE_BREAKPOINT;
		attr.bp_type = HW_BREAKPOINT_RW;
		attr.bp_addr = (uintptr_t)addr;
		attr.bp_len = HW_BREAKPOINT_LEN_1;
	} else {
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
	}
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static int inherit_batch;

static void *passive_main(void *arg)
{
	return arg;
}

static void *spawner_main(void *arg)
{
	pthread_t tids[MAX_BATCH];
	int i, n = inherit_batch;

	for (i = 0; i < n; i++)
		if (pthread_create(&tids[i], NULL, passive_main, NULL))
			return (void *)1L;
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	return arg;
}

static double inherit_round(int spawners, int batch)
{
	pthread_t tids[MAX_SPAWNERS];
	double start = now_ns();
	void *bad = NULL, *ret;
	int i;

	inherit_batch = batch;
	for (i = 0; i < spawners; i++)
		if (pthread_create(&tids[i], NULL, spawner_main, NULL))
			fail("pthread_create");
	for (i = 0; i < spawners; i++) {
		pthread_join(tids[i], &ret);
		if (ret)
			bad = ret;
	}
	if (bad) {
		errno = EAGAIN;
		fail("pthread_create in a spawner");
	}
	return (now_ns() - start) / 1e3 / (spawners * (batch + 1));
}

/* ---- spin: watchpoints that never fire, rotated or not ---- */

#define MAX_SPIN_BPS 8

static volatile uint64_t spin_words[MAX_SPIN_BPS], spin_sink;

static double spin_round(int bps, long n)
{
	int fds[MAX_SPIN_BPS], i;
	double start;
	long k;

	for (i = 0; i < bps; i++) {
		/* Counting, not pinned: flexible where the kernel has them. */
		fds[i] = watch_self(&spin_words[i], 1);
		if (fds[i] < 0)
			fail("perf_event_open");
	}
	start = now_ns();
	for (k = 0; k < n; k++)
		spin_sink = k;
	start = now_ns() - start;
	for (i = 0; i < bps; i++)
		close(fds[i]);
	return start / n;
}

/* ---- hits: the debug exception path ---- */

static volatile uint64_t hit_word;

static double hits_round(int counting, long n)
{
	long long count = 0;
	double start, ns;
	int fd = -1;
	long i;

	if (counting) {
		fd = watch_self(&hit_word, 1);
		if (fd < 0)
			fail("perf_event_open");
	}
	start = now_ns();
	for (i = 0; i < n; i++)
		hit_word = i;
	ns = now_ns() - start;
	if (fd >= 0) {
		if (read(fd, &count, sizeof(count)) != sizeof(count))
			fail("read");
		close(fd);
		if (count != n) {
			errno = 0;
			printf("# %s: counted %lld of %ld writes\n", key, count, n);
			fail("count mismatch");
		}
	}
	return ns / n;
}

/* ---- pingpong: context switches with breakpoints installed ---- */

struct player {
	int	in, out;
	int	nr_bps;
	long	rounds;
	int	serve;
	int	failed;
	volatile uint64_t words[MAX_BPS];
};

static void *player_main(void *arg)
{
	struct player *p = arg;
	int fds[MAX_BPS], i;
	char c = 0;
	long r;

	for (i = 0; i < p->nr_bps; i++) {
		fds[i] = watch_self(&p->words[i], 1);
		if (fds[i] < 0)
			p->failed = errno;
	}
	for (r = 0; r < p->rounds; r++) {
		if (p->serve && write(p->out, &c, 1) != 1)
			p->failed = errno;
		if (read(p->in, &c, 1) != 1)
			p->failed = errno;
		if (!p->serve && write(p->out, &c, 1) != 1)
			p->failed = errno;
	}
	for (i = 0; i < p->nr_bps; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

static double pingpong_round(int bps, long rounds)
{
	struct player p[2];
	pthread_t tid[2];
	int ab[2], ba[2], i;
	double start;

	if (pipe(ab) || pipe(ba))
		fail("pipe");
	memset(p, 0, sizeof(p));
	p[0] = (struct player){ .in = ba[0], .out = ab[1], .serve = 1 };
	p[1] = (struct player){ .in = ab[0], .out = ba[1] };
	start = now_ns();
	for (i = 0; i < 2; i++) {
		p[i].nr_bps = bps;
		p[i].rounds = rounds;
		if (pthread_create(&tid[i], NULL, player_main, &p[i]))
			fail("pthread_create");
	}
	for (i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < 2; i++)
		if (p[i].failed) {
			errno = p[i].failed;
			fail("a player failed");
		}
	close(ab[0]); close(ab[1]); close(ba[0]); close(ba[1]);
	return (now_ns() - start) / rounds;
}

/* Both players (threads created later inherit this) on one CPU. */
static void pin_to_one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("sched_setaffinity");
}

/* ---- ptrace: a debugger rewriting a tracee's watchpoint ---- */

static volatile uint64_t traced_word;

#if defined(__x86_64__)
#define DR_OFFSET(n) (offsetof(struct user, u_debugreg) + (n) * sizeof(long))
/* DR7: L0, and for slot 0 RW=01 (write), LEN=11 (8 bytes). */
#define DR7_ARMED (0x1UL | (0x1UL << 16) | (0x3UL << 18))

static int arm_prepare(pid_t pid)
{
	return ptrace(PTRACE_POKEUSER, pid, DR_OFFSET(0),
		      (void *)&traced_word) ? -1 : 0;
}

static int arm_write(pid_t pid, int armed)
{
	return ptrace(PTRACE_POKEUSER, pid, DR_OFFSET(7),
		      (void *)(armed ? DR7_ARMED : 0)) ? -1 : 0;
}
#elif defined(__aarch64__)
/*
 * DBGWCR as the ptrace ABI takes it: E (bit 0), PAC EL0 (2 << 1),
 * LSC store (2 << 3), BAS all eight bytes (0xff << 5).
 */
#define WCR_ARMED (0x1U | (0x2U << 1) | (0x2U << 3) | (0xffU << 5))

static int arm_prepare(pid_t pid)
{
	return 0;
}

static int arm_write(pid_t pid, int armed)
{
	struct {
		uint32_t dbg_info, pad;
		struct { uint64_t addr; uint32_t ctrl, pad; } regs[1];
	} state = {
		.regs[0] = { (uintptr_t)&traced_word,
			     armed ? WCR_ARMED : WCR_ARMED & ~1U, 0 },
	};
	struct iovec iov = { &state, sizeof(state) };

	return ptrace(PTRACE_SETREGSET, pid, NT_ARM_HW_WATCH, &iov) ? -1 : 0;
}
#else
#error "bpbench ptrace: no debug-register ABI for this architecture"
#endif

static pid_t ptrace_child(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		fail("the tracee did not stop");
	if (arm_prepare(pid))
		fail("setting the watched address");
	return pid;
}

static double ptrace_round(pid_t pid, long n)
{
	double start = now_ns();
	long i;

	for (i = 0; i < n; i++)
		if (arm_write(pid, !(i & 1)))
			fail("writing the watchpoint");
	return (now_ns() - start) / n;
}

int main(int argc, char **argv)
{
	double v[MAX_REPS];
	int reps, i;

	if (argc == 6 && !strcmp(argv[1], "thread")) {
		int procs = atoi(argv[2]), threads = atoi(argv[3]);
		int bps = atoi(argv[4]);

		reps = atoi(argv[5]);
		snprintf(key, sizeof(key), "thread/p%d_t%d_b%d", procs, threads,
			 bps);
		if (bps > MAX_BPS || reps < 1 || reps > MAX_REPS)
			fail("bad arguments");
		for (i = 0; i < reps; i++)
			v[i] = thread_round(procs, threads, bps);
	} else if (argc == 7 && !strcmp(argv[1], "inherit")) {
		int spawners = atoi(argv[2]), batch = atoi(argv[3]);
		int bps = atoi(argv[4]), bp = !strcmp(argv[5], "bp");
		static volatile uint8_t watched[MAX_BPS];
		int fds[MAX_BPS];

		reps = atoi(argv[6]);
		snprintf(key, sizeof(key), "inherit/p%d_t%d_b%d_%s", spawners,
			 batch, bps, bp ? "bp" : "sw");
		if (bps > MAX_BPS || reps < 1 || reps > MAX_REPS ||
		    spawners < 1 || spawners > MAX_SPAWNERS || batch < 1 ||
		    batch > MAX_BATCH || (!bp && strcmp(argv[5], "sw")))
			fail("bad arguments");
		for (i = 0; i < bps; i++) {
			fds[i] = open_inherited(&watched[i], bp);
			if (fds[i] < 0)
				fail("perf_event_open");
		}
		for (i = 0; i < reps; i++)
			v[i] = inherit_round(spawners, batch);
		for (i = 0; i < bps; i++)
			close(fds[i]);
	} else if (argc == 5 && !strcmp(argv[1], "hits")) {
		int counting = !strcmp(argv[2], "count");
		long n = atol(argv[3]);

		reps = atoi(argv[4]);
		snprintf(key, sizeof(key), "hits/%s", argv[2]);
		if (reps < 1 || reps > MAX_REPS || n < 1)
			fail("bad arguments");
		for (i = 0; i < reps; i++)
			v[i] = hits_round(counting, n);
	} else if (argc == 5 && !strcmp(argv[1], "pingpong")) {
		int bps = atoi(argv[2]);
		long rounds = atol(argv[3]);

		reps = atoi(argv[4]);
		snprintf(key, sizeof(key), "pingpong/b%d", bps);
		if (bps > MAX_BPS || reps < 1 || reps > MAX_REPS || rounds < 1)
			fail("bad arguments");
		pin_to_one_cpu();
		for (i = 0; i < reps; i++)
			v[i] = pingpong_round(bps, rounds);
	} else if (argc == 5 && !strcmp(argv[1], "spin")) {
		int bps = atoi(argv[2]);
		long n = atol(argv[3]);

		reps = atoi(argv[4]);
		snprintf(key, sizeof(key), "spin/b%d", bps);
		if (bps < 0 || bps > MAX_SPIN_BPS || reps < 1 ||
		    reps > MAX_REPS || n < 1)
			fail("bad arguments");
		for (i = 0; i < reps; i++)
			v[i] = spin_round(bps, n);
	} else if (argc == 4 && !strcmp(argv[1], "ptrace")) {
		long n = atol(argv[2]);
		pid_t pid;

		reps = atoi(argv[3]);
		snprintf(key, sizeof(key), "ptrace/writes");
		if (reps < 1 || reps > MAX_REPS || n < 2)
			fail("bad arguments");
		pid = ptrace_child();
		for (i = 0; i < reps; i++)
			v[i] = ptrace_round(pid, n);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	} else {
		fprintf(stderr, "usage: see the comment at the top of bpbench.c\n");
		return 2;
	}
	report(v, reps);
	return 0;
}
