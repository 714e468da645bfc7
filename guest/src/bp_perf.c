// SPDX-License-Identifier: GPL-2.0
/*
 * perf_event_open(PERF_TYPE_BREAKPOINT) from user space: exact counts for
 * each access type (including writes the kernel makes with
 * copy_to_user()), the sampling period, the errno of each bad request,
 * and that kernel addresses stay out of an unprivileged user's reach
 * without holding a slot.
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

static void test_counts(void)
{
	int fd;

	fd = open_bp((void *)&var, HW_BREAKPOINT_W, 8, 1, 1);
	if (tap_ok(fd >= 0, "write watchpoint opens (errno %d)", errno)) {
		do_writes(N);
		do_reads(N);
		expect_count("writes only", fd, N);
		close(fd);
	}

	fd = open_bp((void *)&var, HW_BREAKPOINT_RW, 8, 1, 1);
	if (tap_ok(fd >= 0, "read/write watchpoint opens (errno %d)", errno)) {
		do_writes(N);
		do_reads(N);
		expect_count("reads and writes", fd, 2 * N);
		close(fd);
	}

	fd = open_bp((void *)&var, HW_BREAKPOINT_R, 8, 1, 1);
#if defined(__x86_64__)
	tap_ok(fd < 0 && errno == EINVAL,
	       "read-only watchpoint refused on x86 (errno %d)", errno);
	if (fd >= 0)
		close(fd);
#else
	if (tap_ok(fd >= 0, "read watchpoint opens (errno %d)", errno)) {
		do_writes(N);
		do_reads(N);
		expect_count("reads only", fd, N);
		close(fd);
	}
#endif

	fd = open_bp((void *)called, HW_BREAKPOINT_X, sizeof(long), 1, 1);
	if (tap_ok(fd >= 0, "execute breakpoint opens (errno %d)", errno)) {
		for (int i = 0; i < N; i++)
			called();
		expect_count("calls", fd, N);
		close(fd);
	}
}

/* Writes the kernel makes into user memory count unless excluded. */
static void test_kernel_writes(void)
{
	int p[2], fd, fd_user, i;
	char c = 'x';

	if (!tap_ok(pipe(p) == 0, "pipe"))
		return;
	fd = open_bp(byte_buf, HW_BREAKPOINT_W, 1, 0, 1);
	fd_user = open_bp(byte_buf, HW_BREAKPOINT_W, 1, 1, 1);
	tap_ok(fd >= 0 && fd_user >= 0, "copy_to_user watchpoints open (errno %d)",
	       errno);
	for (i = 0; i < 100; i++) {
		if (write(p[1], &c, 1) != 1 || read(p[0], byte_buf, 1) != 1)
			break;
	}
	tap_ok(i == 100, "100 one-byte reads from a pipe");
	expect_count("kernel writes (copy_to_user), kernel included", fd, 100);
	expect_count("kernel writes, kernel excluded", fd_user, 0);
	close(fd);
	close(fd_user);
	close(p[0]);
	close(p[1]);
}

/* A sampling period of P: one sample per P hits, in the ring buffer. */
static void test_period(void)
{
	struct perf_event_attr attr = {
		.sample_period = 10,
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

	fd = perf_bp_open((void *)&var, HW_BREAKPOINT_W, 8, 0, -1, &attr);
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
	tap_ok(samples == 100, "period 10, 1000 writes: %d samples, expected 100",
	       samples);
	expect_count("sampling event count", fd, 1000);
	munmap(meta, len);
	close(fd);
}

static void expect_errno(const char *what, int fd, int want)
{
	int err = errno;

	tap_ok(fd < 0 && err == want, "%s: %s (errno %d, expected %d)", what,
	       fd < 0 ? "refused" : "accepted", fd < 0 ? err : 0, want);
	if (fd >= 0)
		close(fd);
}

static void test_bad_requests(void)
{
	unsigned char *p = (unsigned char *)&var;

	expect_errno("bp_type 0", open_bp(p, 0, 8, 1, 1), EINVAL);
	expect_errno("bp_type X|W", open_bp(p, HW_BREAKPOINT_X | HW_BREAKPOINT_W,
					    8, 1, 1), EINVAL);
	expect_errno("bp_type with unknown bits", open_bp(p, 0x10, 8, 1, 1), EINVAL);
	expect_errno("bp_len 0", open_bp(p, HW_BREAKPOINT_W, 0, 1, 1), EINVAL);
	expect_errno("bp_len 16", open_bp(p, HW_BREAKPOINT_W, 16, 1, 1),
#if defined(__x86_64__)
		     EOPNOTSUPP	/* no AMD range extension in QEMU's CPU */
#else
		     EINVAL
#endif
		     );
#if defined(__x86_64__)
	expect_errno("4 bytes at offset 1", open_bp(p + 1, HW_BREAKPOINT_W, 4, 1, 1),
		     EINVAL);
	expect_errno("bp_len 3", open_bp(p, HW_BREAKPOINT_W, 3, 1, 1), EINVAL);
	expect_errno("execute with bp_len 4", open_bp((void *)called,
		     HW_BREAKPOINT_X, 4, 1, 1), EINVAL);
#else
	expect_errno("4 bytes across an 8-byte granule",
		     open_bp(p + 6, HW_BREAKPOINT_W, 4, 1, 1), EINVAL);
#endif
	expect_errno("kernel address with exclude_kernel",
		     open_bp((void *)~0xfffUL, HW_BREAKPOINT_W, 1, 1, 1), EINVAL);
}

/* An unprivileged user gets no kernel breakpoint, and no slot is held. */
static void test_unprivileged(void)
{
	int status, n, fds[8];
	pid_t pid = fork();

	if (pid == 0) {
		int fd, err;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open_bp((void *)~0xfffUL, HW_BREAKPOINT_W, 1, 0, 1);
		err = errno;
		_exit(fd < 0 && (err == EPERM || err == EACCES) ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "kernel watchpoint as uid 65534: EPERM or EACCES (status %#x)",
	       status);

	for (n = 0; n < 8; n++) {
		struct perf_event_attr attr = {
			.sample_period = 1, .exclude_kernel = 1,
			.exclude_hv = 1, .pinned = 1,
		};

		fds[n] = perf_bp_open(&byte_buf[n % 8], HW_BREAKPOINT_W, 1, 0, -1,
				      &attr);
		if (fds[n] < 0)
			break;
	}
	tap_ok(n == guest_nr_data_slots(),
	       "afterwards every slot is free: %d watchpoints fit", n);
	while (n--)
		close(fds[n]);
}

#if defined(__x86_64__)
/* A symbol's address from /proc/kallsyms (root sees real addresses). */
static unsigned long kallsyms_addr(const char *name)
{
	char line[256], sym[128], type;
	unsigned long addr;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %127s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name)) {
			fclose(f);
			return addr;
		}
	}
	fclose(f);
	return 0;
}

/*
 * Memory the #DB entry touches with the breakpoints armed is refused to
 * root too (EINVAL): a watchpoint there would recurse #DB on its IST
 * stack. The per-CPU parts of the list are checked in KUnit
 * (arch/x86/kernel/hw_breakpoint_test.c); here the fixed CPU entry area
 * and the globals. Then #DB is raised from user mode and from the kernel:
 * had one been accepted, the guest would hang here.
 */
static void test_entry_path_refused(void)
{
	static const struct { const char *what; unsigned long off; } cea[] = {
		{ "the CPU entry area", 0 },
		{ "the CPU entry area (CPU 0's IST stacks)", 0x1f000 },
	};
	struct perf_event_attr attr = {
		.sample_period = 1, .exclude_hv = 1,
	};
	unsigned long pred = kallsyms_addr("x86_pred_cmd");
	int fds[4], nfds = 0, fd, i, ufd;

	for (i = 0; i < (int)(sizeof(cea) / sizeof(cea[0])); i++) {
		fd = perf_bp_open((void *)(0xfffffe0000000000UL + cea[i].off),
				  HW_BREAKPOINT_RW, 8, -1, 0, &attr);
		expect_errno(cea[i].what, fd, EINVAL);
		if (fd >= 0)
			fds[nfds++] = fd;
	}
	if (tap_ok(pred != 0, "x86_pred_cmd is in /proc/kallsyms")) {
		fd = perf_bp_open((void *)pred, HW_BREAKPOINT_RW, 8, -1, 0, &attr);
		expect_errno("x86_pred_cmd (read by the entry IBPB)", fd, EINVAL);
		if (fd >= 0)
			fds[nfds++] = fd;
	}

	/* #DB from user mode and from the kernel (copy_to_user()). */
	ufd = open_bp((void *)&var, HW_BREAKPOINT_W, 8, 0, 1);
	if (tap_ok(ufd >= 0, "a watchpoint to raise #DB with opens (errno %d)",
		   errno)) {
		int p[2];

		do_writes(10);
		if (!pipe(p)) {
			if (write(p[1], "x", 1) != 1 ||
			    read(p[0], (void *)&var, 1) != 1)
				tap_diag("pipe write/read failed");
			close(p[0]);
			close(p[1]);
		}
		expect_count("#DB raised from user mode and the kernel, no hang",
			     ufd, 11);
		close(ufd);
	}
	while (nfds--)
		close(fds[nfds]);
}
#endif

int main(void)
{
	test_counts();
	test_kernel_writes();
	test_period();
	test_bad_requests();
	test_unprivileged();
#if defined(__x86_64__)
	test_entry_path_refused();
#endif
	return tap_done();
}
