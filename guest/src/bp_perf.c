// SPDX-License-Identifier: GPL-2.0
/*
 * perf_event_open(PERF_TYPE_BREAKPOINT) from user space: exact counts for
 * each access type (including writes the kernel makes with
 * copy_to_user()), the sampling period, the errno of each bad request,
 * that kernel addresses stay out of an unprivileged user's reach without
 * holding a slot (with the errno each paranoia level gives), and a table
 * per arch of the kernel ranges root is refused and given.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include "tap.h"
#include "hwbp_guest.h"

#define N	5000

static volatile uint64_t var __attribute__((aligned(8)));
static volatile uint64_t sink;
static unsigned char byte_buf[8] __attribute__((aligned(8)));
/* Aligned to 64: a 64-byte watchpoint's only refusal is its length. */
static volatile uint64_t wide_buf[8] __attribute__((aligned(64)));

static noinline void do_writes(int n)
{
	for (int i = 0; i < n; i++)
		var = i;
}

static noinline void do_reads(int n)
{
	for (int i = 0; i < n; i++)
		sink = var;
}

static noinline void called(void)
{
	asm volatile("" ::: "memory");
}

static int open_bp(const void *addr, unsigned int type, unsigned int len,
		   int exclude_kernel, unsigned long period)
{
	struct perf_event_attr attr = {
		.sample_period = period,
		.exclude_kernel = exclude_kernel,
		.exclude_hv = 1,
	};

	return perf_bp_open(addr, type, len, 0, -1, &attr);
}

static void expect_count(const char *what, int fd, long long want)
{
	long long got = perf_count(fd);

	tap_ok(got == want, "%s: count %lld, expected %lld", what, got, want);
}

static void expect_errno(const char *what, int fd, int want)
{
	int err = errno;

	tap_ok(fd < 0 && err == want, "%s: %s (errno %d, expected %d)", what,
	       fd < 0 ? "refused" : "accepted", fd < 0 ? err : 0, want);
	if (fd >= 0)
		close(fd);
}

static void test_counts(void)
{
	int fd;

	fd = open_bp((void *)&var, HW_BREAKPOINT_W, 8, 1, 1);
#if defined(__arm__)
	expect_errno("write-only watchpoint with perf's handler (arm)", fd,
		     EINVAL);
#else
	if (tap_ok(fd >= 0, "write watchpoint opens (errno %d)", errno)) {
		do_writes(N);
		do_reads(N);
		expect_count("writes only", fd, N);
		close(fd);
	}
#endif

	fd = open_bp((void *)&var, HW_BREAKPOINT_RW, 8, 1, 1);
	if (tap_ok(fd >= 0, "read/write watchpoint opens (errno %d)", errno)) {
		do_writes(N);
		do_reads(N);
		expect_count("reads and writes", fd, GUEST_HITS(2 * N));
		close(fd);
	}

	fd = open_bp((void *)&var, HW_BREAKPOINT_R, 8, 1, 1);
#if defined(__x86_64__)
	tap_ok(fd < 0 && errno == EINVAL,
	       "read-only watchpoint refused on x86 (errno %d)", errno);
	if (fd >= 0)
		close(fd);
#elif defined(__arm__)
	expect_errno("read-only watchpoint with perf's handler (arm)", fd,
		     EINVAL);
#else
	if (tap_ok(fd >= 0, "read watchpoint opens (errno %d)", errno)) {
		do_writes(N);
		do_reads(N);
		expect_count("reads only", fd, N);
		close(fd);
	}
#endif

	fd = open_bp(guest_code_addr(called), HW_BREAKPOINT_X,
		     guest_code_len(called), 1, 1);
	if (tap_ok(fd >= 0, "execute breakpoint opens (errno %d)", errno)) {
		for (int i = 0; i < N; i++)
			called();
		expect_count("calls", fd, GUEST_HITS(N));
		close(fd);
	}
}

/*
 * Writes the kernel makes into user memory count unless excluded. 32-bit
 * arm's backend gives a user address's watchpoint user privilege only,
 * and its copy_to_user() stores with kernel privilege: none count there.
 */
#ifdef __arm__
#define KERNEL_WRITE_HITS	0
#else
#define KERNEL_WRITE_HITS	100
#endif

static void test_kernel_writes(void)
{
	int p[2], fd, fd_user, i;
	char c = 'x';

	if (!tap_ok(pipe(p) == 0, "pipe"))
		return;
	fd = open_bp(byte_buf, GUEST_PERF_WATCH, 1, 0, 1);
	fd_user = open_bp(byte_buf, GUEST_PERF_WATCH, 1, 1, 1);
	tap_ok(fd >= 0 && fd_user >= 0, "copy_to_user watchpoints open (errno %d)",
	       errno);
	for (i = 0; i < 100; i++) {
		if (write(p[1], &c, 1) != 1 || read(p[0], byte_buf, 1) != 1)
			break;
	}
	tap_ok(i == 100, "100 one-byte reads from a pipe");
	expect_count("kernel writes (copy_to_user), kernel included", fd,
		     KERNEL_WRITE_HITS);
	expect_count("kernel writes, kernel excluded", fd_user, 0);
	close(fd);
	close(fd_user);
	close(p[0]);
	close(p[1]);
}

/*
 * A sampling period of P: one sample per P hits, in the ring buffer (on
 * 32-bit arm under QEMU, one hit: a period of 1 and its one sample).
 */
static void test_period(void)
{
	const int period = GUEST_EVERY_HIT ? 10 : 1;
	const long long hits = GUEST_HITS(1000);
	struct perf_event_attr attr = {
		.sample_period = period,
		.sample_type = PERF_SAMPLE_IP,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.disabled = 1,
	};
	size_t len = 9 * getpagesize();
	struct perf_event_mmap_page *meta;
	uint64_t off, head;
	int fd, samples = 0;
	char *data;

	fd = perf_bp_open((void *)&var, GUEST_PERF_WATCH, 8, 0, -1, &attr);
	if (!tap_ok(fd >= 0, "sampling watchpoint opens (errno %d)", errno))
		return;
	meta = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!tap_ok(meta != MAP_FAILED, "ring buffer maps")) {
		close(fd);
		return;
	}
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	do_writes(1000);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	data = (char *)meta + meta->data_offset;
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	for (off = meta->data_tail; off < head;) {
		struct perf_event_header *h = (void *)(data + off % meta->data_size);

		samples += h->type == PERF_RECORD_SAMPLE;
		off += h->size;
	}
	tap_ok(samples == hits / period,
	       "period %d, 1000 writes: %d samples, expected %lld", period,
	       samples, hits / period);
	expect_count("sampling event count", fd, hits);
	munmap(meta, len);
	close(fd);
}

static void test_bad_requests(void)
{
	unsigned char *p = (unsigned char *)&var;

	expect_errno("bp_type 0", open_bp(p, 0, 8, 1, 1), EINVAL);
	expect_errno("bp_type X|W", open_bp(p, HW_BREAKPOINT_X | HW_BREAKPOINT_W,
					    8, 1, 1), EINVAL);
	expect_errno("bp_type with unknown bits", open_bp(p, 0x10, 8, 1, 1), EINVAL);
	expect_errno("bp_len 0", open_bp(p, GUEST_PERF_WATCH, 0, 1, 1), EINVAL);
#if defined(__x86_64__)
	expect_errno("bp_len 64, aligned", open_bp((void *)wide_buf, HW_BREAKPOINT_W,
						   64, 1, 1),
		     EOPNOTSUPP);	/* no AMD range extension in QEMU's CPU */
	expect_errno("4 bytes at offset 1", open_bp(p + 1, HW_BREAKPOINT_W, 4, 1, 1),
		     EINVAL);
	/* Shorter ranges are split over registers: the range suite. */
	expect_errno("bp_len 33", open_bp(p, HW_BREAKPOINT_W, 33, 1, 1), EINVAL);
	expect_errno("execute with bp_len 4", open_bp((void *)called,
		     HW_BREAKPOINT_X, 4, 1, 1), EINVAL);
#elif defined(__arm__)
	/* 32-bit arm: 1, 2, 4 or 8 bytes inside one aligned word or pair. */
	expect_errno("bp_len 3", open_bp(p, HW_BREAKPOINT_RW, 3, 1, 1), EINVAL);
	expect_errno("bp_len 16", open_bp(p, HW_BREAKPOINT_RW, 16, 1, 1),
		     EINVAL);
	expect_errno("4 bytes at offset 1", open_bp(p + 1, HW_BREAKPOINT_RW, 4,
						    1, 1),
		     EINVAL);
	expect_errno("execute with bp_len 8", open_bp(guest_code_addr(called),
		     HW_BREAKPOINT_X, 8, 1, 1), EINVAL);
#else
	/* Longer ranges take MASK blocks: the range suite. */
	expect_errno("bp_len 2 GiB + 1", open_bp(p, HW_BREAKPOINT_W,
						 (1ULL << 31) + 1, 1, 1),
		     EINVAL);
#endif
	/* The arch's parse comes first: 32-bit arm's refuses the address. */
	expect_errno("kernel address with exclude_kernel",
		     open_bp((void *)~0xfffUL, GUEST_PERF_WATCH, 1, 1, 1),
#ifdef __arm__
		     EPERM
#else
		     EINVAL
#endif
		     );
}

/* Rows of refused_ranges[]: where, and what root must get there. */
struct range_case {
	const char	*what;
	const char	*sym;		/* NULL: .addr is the address */
	unsigned long	addr;		/* added to the symbol's address */
	unsigned int	type, len;
	int		task;		/* pid 0 rather than CPU 0 */
	int		want;		/* errno, 0: accepted */
};

#define RC_KPROBES	(-1)	/* 0 with CONFIG_KPROBES, else EINVAL */

/*
 * Kernel ranges, per arch, that even root must be refused with EINVAL (a
 * breakpoint there would recurse in the debug exception), beside ones
 * that must be accepted so that the refusals are not blanket ones. Root
 * asks, with exclude_kernel clear and the event disabled: the answer is
 * the validation's alone.
 */
static const struct range_case refused_ranges[] = {
#if defined(__x86_64__)
	/* arch/x86/include/asm/pgtable_areas.h: CPU_ENTRY_AREA_BASE, P4D_SIZE */
	{ "CPU entry area, first 8 bytes", NULL, 0xfffffe0000000000UL,
	  HW_BREAKPOINT_RW, 8, 0, EINVAL },
	{ "CPU entry area, CPU 0's IST stacks", NULL, 0xfffffe000001f000UL,
	  HW_BREAKPOINT_RW, 8, 0, EINVAL },
	{ "CPU entry area, last 8 bytes", NULL, 0xfffffe7ffffffff8UL,
	  HW_BREAKPOINT_W, 8, 0, EINVAL },
	{ "CPU entry area, 1 byte just inside", NULL, 0xfffffe7fffffffffUL,
	  HW_BREAKPOINT_W, 1, 0, EINVAL },
	{ "the unused hole below the CPU entry area", NULL,
	  0xfffffdfffffffff8UL, HW_BREAKPOINT_W, 8, 0, 0 },
	{ "the unused hole above the CPU entry area", NULL,
	  0xfffffe8000000000UL, HW_BREAKPOINT_W, 8, 0, 0 },
	{ "x86_pred_cmd (read by the entry IBPB)", "x86_pred_cmd", 0,
	  HW_BREAKPOINT_RW, 8, 0, EINVAL },
	{ "x86_pred_cmd, as a task's watchpoint", "x86_pred_cmd", 0,
	  HW_BREAKPOINT_W, 8, 1, EINVAL },
	{ "__per_cpu_offset[0] (read by paranoid_entry)", "__per_cpu_offset",
	  0, HW_BREAKPOINT_W, 8, 0, EINVAL },
	{ "entry text, execute", "__entry_text_start", 0, HW_BREAKPOINT_X,
	  sizeof(long), 0, EINVAL },
	{ "noinstr text, execute", "__noinstr_text_start", 0,
	  HW_BREAKPOINT_X, sizeof(long), 0, EINVAL },
	{ "exc_debug, execute", "exc_debug", 0, HW_BREAKPOINT_X,
	  sizeof(long), 0, EINVAL },
	{ "plain kernel text, execute", "hw_breakpoint_is_used", 0,
	  HW_BREAKPOINT_X, sizeof(long), 0, RC_KPROBES },
	{ "plain kernel data (jiffies)", "jiffies", 0, HW_BREAKPOINT_RW, 8,
	  0, 0 },
	{ "plain kernel data, as a task's watchpoint", "jiffies", 0,
	  HW_BREAKPOINT_W, 8, 1, 0 },
#elif defined(__aarch64__)
	{ "entry text (the vectors), execute", "__entry_text_start", 0,
	  HW_BREAKPOINT_X, 4, 0, EINVAL },
	{ "noinstr text, execute", "__noinstr_text_start", 0,
	  HW_BREAKPOINT_X, 4, 0, EINVAL },
	{ "the debug exception's C entry, execute", "el1h_64_sync_handler", 0,
	  HW_BREAKPOINT_X, 4, 0, EINVAL },
	{ "plain kernel text, execute", "hw_breakpoint_is_used", 0,
	  HW_BREAKPOINT_X, 4, 0, 0 },
	{ "plain kernel text, as a task's breakpoint", "hw_breakpoint_is_used",
	  0, HW_BREAKPOINT_X, 4, 1, EINVAL },
	{ "plain kernel data (jiffies)", "jiffies", 0, HW_BREAKPOINT_RW, 8,
	  0, 0 },
	{ "plain kernel data, as a task's watchpoint", "jiffies", 0,
	  HW_BREAKPOINT_W, 8, 1, EINVAL },
	/* between TASK_SIZE_MAX (1 << VA_BITS) and PAGE_OFFSET */
	{ "the hole above user space (1 << 52)", NULL, 1UL << 52,
	  HW_BREAKPOINT_W, 8, 0, EINVAL },
	{ "the hole below PAGE_OFFSET", NULL, 0xffe0000000000000UL,
	  HW_BREAKPOINT_W, 8, 0, EINVAL },
	{ "8 bytes ending on the last user byte", NULL, (1UL << 48) - 8,
	  HW_BREAKPOINT_W, 8, 0, 0 },
#elif defined(__arm__)
	/*
	 * perf's own handler steps over a hit with a mismatch breakpoint of
	 * the task's: no kernel address (EPERM), and no CPU-bound event
	 * (EINVAL). TASK_SIZE is PAGE_OFFSET (0xc0000000) - 16 MiB.
	 */
	{ "plain kernel text, execute", "hw_breakpoint_is_used", 0,
	  HW_BREAKPOINT_X, 4, 0, EPERM },
	{ "plain kernel text, as a task's breakpoint", "hw_breakpoint_is_used",
	  0, HW_BREAKPOINT_X, 4, 1, EPERM },
	{ "plain kernel data (jiffies)", "jiffies", 0, HW_BREAKPOINT_RW, 4,
	  0, EPERM },
	{ "plain kernel data, as a task's watchpoint", "jiffies", 0,
	  HW_BREAKPOINT_RW, 4, 1, EPERM },
	{ "the first byte above user space", NULL, GUEST_ARM_TASK_SIZE,
	  HW_BREAKPOINT_RW, 1, 1, EPERM },
	{ "4 bytes ending on the last user byte", NULL, GUEST_ARM_TASK_SIZE - 4,
	  HW_BREAKPOINT_RW, 4, 1, 0 },
	{ "4 bytes ending on the last user byte, CPU-bound", NULL,
	  GUEST_ARM_TASK_SIZE - 4, HW_BREAKPOINT_RW, 4, 0, EINVAL },
#endif
};

/*
 * Each row of refused_ranges[], opened by root: refused rows enabled, as a
 * user would open them, the others disabled (jiffies would count every
 * tick).
 */
static void test_kernel_ranges(void)
{
	int kprobes = guest_kallsyms("register_kprobe") != 0;
	size_t i;

	tap_diag("kernel ranges: CONFIG_KPROBES %s, %d possible CPUs",
		 kprobes ? "y" : "n", (guest_cpu_list("/sys/devices/system/cpu/possible", NULL, 1 << 16) + 1));
	for (i = 0; i < sizeof(refused_ranges) / sizeof(refused_ranges[0]); i++) {
		const struct range_case *c = &refused_ranges[i];
		struct perf_event_attr attr = {
			.sample_period = 1, .exclude_hv = 1,
		};
		unsigned long addr = c->addr;
		int want = c->want, fd, err;

		if (c->sym) {
			unsigned long base = guest_kallsyms(c->sym);

			if (!tap_ok(base != 0, "%s: %s is in /proc/kallsyms",
				    c->what, c->sym))
				continue;
			addr += base;
		}
		if (want == RC_KPROBES)
			want = kprobes ? 0 : EINVAL;
		attr.disabled = !want;
		fd = perf_bp_open((void *)addr, c->type, c->len,
				  c->task ? 0 : -1, c->task ? -1 : 0, &attr);
		err = fd < 0 ? errno : 0;
		if (want)
			tap_ok(err == want, "%s: %s (errno %d, expected %d)",
			       c->what, fd < 0 ? "refused" : "accepted", err, want);
		else
			tap_ok(fd >= 0, "%s: accepted (errno %d)", c->what, err);
		if (fd >= 0)
			close(fd);
	}
}

#if defined(__x86_64__)
/* Every CPU's __per_cpu_offset entry, the last one included. */
static void test_per_cpu_offset(void)
{
	struct perf_event_attr attr = {
		.sample_period = 1, .exclude_hv = 1, .disabled = 1,
	};
	unsigned long base = guest_kallsyms("__per_cpu_offset");
	int n = guest_cpu_list("/sys/devices/system/cpu/possible", NULL,
			       1 << 16) + 1, fd, kernel_max;

	if (!tap_ok(base != 0, "__per_cpu_offset is in /proc/kallsyms"))
		return;
	fd = perf_bp_open((void *)(base + 8UL * (n - 1)), HW_BREAKPOINT_W, 8,
			  -1, 0, &attr);
	expect_errno("__per_cpu_offset[nr_cpu_ids - 1]", fd, EINVAL);
	/* NR_CPUS - 1 */
	if (guest_read_int("/sys/devices/system/cpu/kernel_max", &kernel_max) ||
	    kernel_max < n)
		return;
	/* The array is NR_CPUS long; only the possible CPUs' entries are read. */
	fd = perf_bp_open((void *)(base + 8UL * n), HW_BREAKPOINT_W, 8, -1, 0,
			  &attr);
	tap_ok(fd >= 0, "__per_cpu_offset[nr_cpu_ids] (of %d): accepted (errno %d)",
	       kernel_max + 1, fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
}
#endif

static int write_paranoid(int v)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "w");
	int ok;

	if (!f)
		return 0;
	ok = fprintf(f, "%d\n", v) > 0;
	return fclose(f) == 0 && ok;
}

/*
 * A kernel watchpoint asked for by uid 65534, under each paranoia level
 * that decides who refuses it: above 1 perf core's perf_allow_kernel()
 * says EACCES before the event exists; below, the event's init does,
 * before perf_allow_cpu() is asked about a CPU event: the arch first
 * (arm64 takes no kernel address in a task's event: EINVAL; 32-bit arm
 * none with perf's own handler: EPERM), then
 * bp_parse()'s CAP_SYS_ADMIN check (EPERM).
 */
static void test_unprivileged_errnos(void)
{
	static const struct {
		int paranoid, task, want;
	} rows[] = {
		{ 2, 1, EACCES },
		{ 2, 0, EACCES },
		{ 1, 1,
#if defined(__x86_64__) || defined(__arm__)
		  EPERM
#else
		  EINVAL
#endif
		},
		{ 1, 0, EPERM },
		{ 0, 0, EPERM },
	};
	int saved = 2;
	size_t i;

	guest_read_int("/proc/sys/kernel/perf_event_paranoid", &saved);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int status = -1, got;
		pid_t pid;

		if (!tap_ok(write_paranoid(rows[i].paranoid),
			    "perf_event_paranoid set to %d", rows[i].paranoid))
			continue;
		pid = fork();
		if (pid == 0) {
			int fd;

			if (setgid(65534) || setuid(65534))
				_exit(254);
			fd = perf_bp_open((void *)~0xfffUL, HW_BREAKPOINT_W, 1,
					  rows[i].task ? 0 : -1,
					  rows[i].task ? -1 : 0,
					  &(struct perf_event_attr){
						.sample_period = 1,
						.exclude_hv = 1,
					  });
			_exit(fd >= 0 ? 0 : errno);
		}
		if (pid > 0)
			waitpid(pid, &status, 0);
		got = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		tap_ok(got == rows[i].want,
		       "uid 65534, paranoid %d, kernel watchpoint in %s: errno %d, expected %d",
		       rows[i].paranoid, rows[i].task ? "its task" : "CPU 0",
		       got, rows[i].want);
	}
	write_paranoid(saved);
}

/* An unprivileged user gets no kernel breakpoint, and no slot is held. */
static void test_unprivileged(void)
{
	int n, fds[8];

	test_unprivileged_errnos();
	for (n = 0; n < 8; n++) {
		struct perf_event_attr attr = {
			.sample_period = 1, .exclude_kernel = 1,
			.exclude_hv = 1, .pinned = 1,
		};

		fds[n] = perf_bp_open(&byte_buf[n % 8], GUEST_PERF_WATCH, 1, 0,
				      -1, &attr);
		if (fds[n] < 0)
			break;
	}
	tap_ok(n == guest_nr_data_slots(),
	       "afterwards every slot is free: %d watchpoints fit", n);
	while (n--)
		close(fds[n]);
}

int main(void)
{
	test_counts();
	test_kernel_writes();
	test_period();
	test_bad_requests();
	test_unprivileged();
	test_kernel_ranges();
#if defined(__x86_64__)
	test_per_cpu_offset();
#endif
	return tap_done();
}
