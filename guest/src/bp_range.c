// SPDX-License-Identifier: GPL-2.0
/*
 * Range watchpoints: one perf watchpoint longer than a debug register
 * covers. x86 splits a range of up to 32 bytes, at any address, into the
 * fewest aligned pieces of 1, 2, 4 or 8 bytes, one debug register each,
 * taken all or none; a hit on any piece is one hit of the event, also
 * when one access spans two pieces. arm64 covers a range of up to 2 GiB
 * with DBGWCR.MASK blocks (a power of two, aligned), one or two pairs,
 * and reports only accesses to the range's own bytes.
 *
 * Each watched store is followed by a store to an unwatched word of the
 * same page: QEMU 7.2's x86 TCG keeps a watchpoint's hit flag until an
 * access to its page matches no watchpoint (see the flexible suite).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/ioctl.h>
#include "tap.h"
#include "hwbp_guest.h"

#ifndef PERF_EVENT_IOC_MODIFY_ATTRIBUTES
#define PERF_EVENT_IOC_MODIFY_ATTRIBUTES	_IOW('$', 11, struct perf_event_attr *)
#endif

/* q[] is 32-byte aligned, with a guard word on each side. */
static volatile struct {
	uint64_t	pad[3];
	uint64_t	before;
	uint64_t	q[4];
	uint64_t	after;
	uint64_t	scrub;
} page __attribute__((aligned(256)));

#define Q	((volatile char *)page.q)

static void attr_of(struct perf_event_attr *attr, uintptr_t addr,
		    uint64_t len, unsigned int type, int pinned)
{
	memset(attr, 0, sizeof(*attr));
	attr->type = PERF_TYPE_BREAKPOINT;
	attr->size = sizeof(*attr);
	attr->bp_type = type;
	attr->bp_addr = addr;
	attr->bp_len = len;
	attr->pinned = pinned;
	attr->exclude_kernel = 1;
	attr->exclude_hv = 1;
}

/* A counting watchpoint of this thread: its fd, or -1 with errno set. */
static int open_range(volatile const void *addr, uint64_t len, int pinned)
{
	struct perf_event_attr attr;

	attr_of(&attr, (uintptr_t)addr, len, HW_BREAKPOINT_W, pinned);
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

/* errno of opening it (0 if it opened, and then closed again). */
static int open_err(volatile const void *addr, uint64_t len,
		    unsigned int type)
{
	struct perf_event_attr attr;
	int fd;

	attr_of(&attr, (uintptr_t)addr, len, type, 1);
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Store one byte, then scrub QEMU's hit flags. */
static noinline void poke(volatile char *p)
{
	*p = 1;
	page.scrub++;
}

static void close_all(int *fds, int n)
{
	while (n--)
		if (fds[n] >= 0)
			close(fds[n]);
}

#if defined(__x86_64__)
/* 32 aligned bytes: a store to each quadword counts, the guards do not. */
static void test_aligned_32(void)
{
	int fd = open_range(page.q, 32, 1), i;
	long long n;

	if (!tap_ok(fd >= 0, "32 aligned bytes open (%s)",
		    fd < 0 ? strerror(errno) : "ok")) {
		tap_skip("no range", "32 bytes, each quadword counts once");
		tap_skip("no range", "32 bytes, the bytes just outside do not count");
		return;
	}
	for (i = 0; i < 4; i++)
		poke(Q + 8 * i + i);
	n = perf_count(fd);
	tap_ok(n == 4, "32 bytes: a store to each of its quadwords counts once (%lld of 4)",
	       n);
	poke(Q - 1);
	poke(Q + 32);
	n = perf_count(fd) - n;
	tap_ok(n == 0, "32 bytes: a store to the byte before and the byte after does not count (%lld)",
	       n);
	close(fd);
}

/*
 * 13 bytes at q + 3: 1 byte at +3, 4 at +4 and 8 at +8, three registers;
 * so one more pinned watchpoint fits, a second does not.
 */
static void test_unaligned_13(int slots)
{
	int fd = open_range(Q + 3, 13, 1), a, b;
	long long n;

	if (!tap_ok(fd >= 0, "13 bytes at an address 3 past a quadword open (%s)",
		    fd < 0 ? strerror(errno) : "ok")) {
		tap_skip("no range", "13 bytes, three registers taken");
		tap_skip("no range", "13 bytes, exactly its bytes count");
		return;
	}
	a = open_range(&page.before, 8, 1);
	b = open_range(&page.after, 8, 1);
	tap_ok(slots != 4 || (a >= 0 && b < 0 && errno == ENOSPC),
	       "13 bytes take 3 of the 4 registers: one more pinned watchpoint opens (%d), a second gets ENOSPC (%d, %s)",
	       a, b, b < 0 ? strerror(errno) : "opened");
	poke(Q + 2);
	poke(Q + 16);
	poke(Q + 3);
	poke(Q + 7);
	poke(Q + 15);
	n = perf_count(fd);
	tap_ok(n == 3, "13 bytes: stores to its first, a middle and its last byte count, those just outside do not (%lld of 3)",
	       n);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	close(fd);
}

/*
 * 13 bytes at q: 8 at +0, 4 at +8 and 1 at +12; its last piece ends with
 * it, so the bytes after it do not count.
 */
static void test_tail(void)
{
	int fd = open_range(Q, 13, 1);
	long long n;

	if (!tap_ok(fd >= 0, "13 bytes at a quadword open")) {
		tap_skip("no range", "13 bytes at a quadword, only its own bytes count");
		return;
	}
	poke(Q + 12);
	poke(Q + 13);
	poke(Q + 15);
	n = perf_count(fd);
	tap_ok(n == 1, "13 bytes at a quadword: its last byte counts, the 3 after it do not (%lld of 1)",
	       n);
	close(fd);
}

/* One 16-byte SSE store over both pieces of a 16-byte range: one hit. */
static void test_wide_store(void)
{
	int fd = open_range(page.q, 16, 1);
	long long n;

	if (!tap_ok(fd >= 0, "16 aligned bytes (two registers) open")) {
		tap_skip("no range", "a 16-byte store over both pieces counts once");
		return;
	}
	__asm__ volatile("pxor %%xmm0, %%xmm0\n\tmovdqu %%xmm0, (%0)"
			 :: "r"(page.q) : "xmm0", "memory");
	page.scrub++;
	n = perf_count(fd);
	poke(Q + 8);
	tap_ok(n == 1 && perf_count(fd) == 2,
	       "a 16-byte store across both pieces counts once (%lld), a store to the second piece alone once more",
	       n);
	/*
	 * Two stores, to one piece and then the other, with no scrub in
	 * between: two hits. Under QEMU the second #DB also names the
	 * first piece (its stale flag), which must not count again.
	 */
	page.q[0] = 1;
	page.q[1] = 1;
	page.scrub++;
	n = perf_count(fd) - 2;
	tap_ok(n == 2, "stores to one piece, then the other: 2 hits, each #DB one hit whatever pieces it names (%lld)",
	       n);
	close(fd);
}

static void test_refused(void)
{
	int e;

	e = open_err(page.q, 33, HW_BREAKPOINT_W);
	tap_ok(e == EINVAL, "33 bytes: EINVAL (%s)", strerror(e));
	e = open_err(Q + 1, 16, HW_BREAKPOINT_W);
	tap_ok(e == EINVAL, "16 bytes at an odd address (five pieces): EINVAL (%s)",
	       strerror(e));
	e = open_err(Q + 4, 8, HW_BREAKPOINT_W);
	tap_ok(e == EINVAL, "8 bytes not aligned to 8 (a DR7 length, as ptrace asks): EINVAL (%s)",
	       strerror(e));
	e = open_err(Q + 1, 7, HW_BREAKPOINT_W);
	tap_ok(e == 0, "7 bytes at an odd address (three pieces) open (%s)",
	       strerror(e));
	e = open_err((void *)test_refused, 1, HW_BREAKPOINT_X);
	tap_ok(e == 0, "an execute breakpoint of bp_len 1 opens (%s)", strerror(e));
	e = open_err((void *)test_refused, 2, HW_BREAKPOINT_X);
	tap_ok(e == EINVAL, "an execute breakpoint of bp_len 2: EINVAL (%s)",
	       strerror(e));
}

/*
 * Modifying a range changes its weight: 16 bytes and two pinned words
 * fill the registers, so growing it to 24 bytes is ENOSPC and it keeps
 * its 16; with one word closed, it grows.
 */
static void test_modify(void)
{
	struct perf_event_attr attr;
	int fds[3], ret, err;
	long long n;

	fds[0] = open_range(page.q, 16, 1);
	fds[1] = open_range(&page.before, 8, 1);
	fds[2] = open_range(&page.after, 8, 1);
	if (!tap_ok(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0,
		    "16 bytes and two pinned words fill the registers")) {
		close_all(fds, 3);
		tap_skip("not filled", "growing the range to 24 bytes, ENOSPC, and it keeps its 16");
		tap_skip("not filled", "with a word closed, it grows to 24 bytes");
		return;
	}
	attr_of(&attr, (uintptr_t)page.q, 24, HW_BREAKPOINT_W, 1);
	ret = ioctl(fds[0], PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr);
	err = errno;
	poke(Q + 16);
	poke(Q + 0);
	n = perf_count(fds[0]);
	tap_ok(ret < 0 && err == ENOSPC && n == 1,
	       "growing the range to 24 bytes: ENOSPC (%s), and it still watches 16 (%lld of 1)",
	       ret < 0 ? strerror(err) : "done", n);
	close(fds[2]);
	fds[2] = -1;
	ret = ioctl(fds[0], PERF_EVENT_IOC_MODIFY_ATTRIBUTES, &attr);
	err = errno;
	poke(Q + 16);
	n = perf_count(fds[0]);
	tap_ok(ret == 0 && n == 2, "with a word closed, it grows to 24 bytes (%s) and counts there (%lld of 2)",
	       ret < 0 ? strerror(err) : "done", n);
	close_all(fds, 3);
}

/*
 * Flexible ranges share one reservation as wide as the widest: two of 24
 * bytes (3 registers each) both open, and a pinned 16 bytes (2) does not.
 */
static void test_flexible(void)
{
	int a = open_range(page.q, 24, 0), b = open_range(Q + 8, 24, 0), c;

	tap_ok(a >= 0 && b >= 0, "two flexible 24-byte ranges open (%d, %d)", a, b);
	c = open_range(&page.before, 16, 1);
	tap_ok(c < 0 && errno == ENOSPC,
	       "a pinned range of 2 registers beside their share of 3: ENOSPC (%s)",
	       c < 0 ? strerror(errno) : "opened");
	if (c >= 0)
		close(c);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
}

#elif defined(__aarch64__)

#include <sys/mman.h>

#define SZ_1M	(1UL << 20)

/* Stores of one byte at each of @offsets[0..@n) from @base, counted. */
static long long store_at(int fd, volatile char *base, const long *offsets,
			  int n)
{
	int i;

	ioctl(fd, PERF_EVENT_IOC_RESET, 0);
	for (i = 0; i < n; i++)
		base[offsets[i]] = (char)i;
	return perf_count(fd);
}

/*
 * Watch @len bytes at @base + @start; stores to @in[] (offsets from
 * @base) must each count and stores to @out[] must not, and the thread
 * goes on past them.
 */
static void check_range(const char *what, volatile char *base, long start,
			uint64_t len, const long *in, int nr_in,
			const long *out, int nr_out)
{
	int fd = open_range(base + start, len, 1);
	long long n;

	if (!tap_ok(fd >= 0, "%s opens (%s)", what, fd < 0 ? strerror(errno) : "ok")) {
		tap_skip("no range", "%s: stores inside count, outside not", what);
		return;
	}
	n = store_at(fd, base, in, nr_in);
	tap_ok(n == nr_in, "%s: each of %d stores inside counts (%lld)", what,
	       nr_in, n);
	n = store_at(fd, base, out, nr_out);
	tap_ok(n == 0, "%s: %d stores outside, some in its blocks, count nothing and the thread goes on (%lld)",
	       what, nr_out, n);
	close(fd);
}

/* A page, a part of a page, and 1 MiB, at aligned addresses. */
static void test_blocks(volatile char *area)
{
	static const long page_in[] = { 4096, 4097, 6000, 8191 };
	static const long page_out[] = { 4095, 8192 };
	static const long part_in[] = { 4096 + 100, 4096 + 200, 4096 + 299 };
	static const long part_out[] = { 4096 + 50, 4096 + 99, 4096 + 300, 4096 + 511 };
	static const long mib_in[] = { SZ_1M, SZ_1M + 4096, SZ_1M + 777777, 2 * SZ_1M - 1 };
	static const long mib_out[] = { SZ_1M - 1, 2 * SZ_1M };

	check_range("a 4 KiB page", area, 4096, 4096, page_in, 4, page_out, 2);
	check_range("[page+100, page+300)", area, 4096 + 100, 200, part_in, 3,
		    part_out, 4);
	check_range("1 MiB", area, SZ_1M, SZ_1M, mib_in, 4, mib_out, 2);
}

/*
 * 32 bytes across a 1 MiB boundary: one block would be 2 MiB, so two of
 * 16 bytes: then only N-2 pinned watchpoints fit beside it.
 */
static void test_straddle(volatile char *area, int slots)
{
	static const long in[] = { SZ_1M - 16, SZ_1M - 1, SZ_1M, SZ_1M + 15 };
	static const long out[] = { SZ_1M - 17, SZ_1M + 16 };
	int fd = open_range(area + SZ_1M - 16, 32, 1), fds[16], i, n = 0;

	for (i = 0; fd >= 0 && i < slots && n < 16; i++) {
		fds[n] = open_range(area + 64 * i, 8, 1);
		if (fds[n] < 0)
			break;
		n++;
	}
	tap_ok(fd >= 0 && n == slots - 2 && errno == ENOSPC,
	       "32 bytes across a 1 MiB boundary take two pairs: %d more pinned fit, not %d (%d did)",
	       slots - 2, slots - 1, n);
	close_all(fds, n);
	if (fd >= 0)
		close(fd);
	check_range("32 bytes across a 1 MiB boundary", area, SZ_1M - 16, 32,
		    in, 4, out, 2);
}

static void test_refused_arm64(void)
{
	int e = open_err(page.q, (1ULL << 31) + 1, HW_BREAKPOINT_W);

	tap_ok(e == EINVAL, "2 GiB + 1 bytes: EINVAL (%s)", strerror(e));
	e = open_err(page.q + 1, 24, HW_BREAKPOINT_W);
	tap_ok(e == 0, "24 bytes not aligned to 8 open (%s)", strerror(e));
	e = open_err(page.q, 16, HW_BREAKPOINT_X);
	tap_ok(e == EINVAL, "an execute breakpoint of 16 bytes: EINVAL (%s)",
	       strerror(e));
}

#define MAX_WATCH_LEN "/sys/bus/event_source/devices/breakpoint/caps/max_watch_len"
#endif

int main(void)
{
	int slots = guest_nr_data_slots();
#if defined(__x86_64__)
	int max_len = -1;

	if (slots != 4)
		tap_bail("%d data registers: the cases assume x86's 4", slots);
	if (guest_read_int("/sys/bus/event_source/devices/breakpoint/caps/max_watch_len",
			   &max_len))
		max_len = -1;
	tap_ok(max_len == 32, "caps/max_watch_len is 32 (%d)", max_len);
	test_aligned_32();
	test_unaligned_13(slots);
	test_tail();
	test_wide_store();
	test_refused();
	test_modify();
	test_flexible();
#elif defined(__aarch64__)
	/* 3 MiB, so that a 1 MiB-aligned 2 MiB lies inside. */
	char *map = mmap(NULL, 3 * SZ_1M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *area;

	if (map == MAP_FAILED)
		tap_bail("mmap: %s", strerror(errno));
	area = (char *)(((uintptr_t)map + SZ_1M - 1) & ~(SZ_1M - 1));
	tap_ok(guest_read_ull(MAX_WATCH_LEN) == 1ULL << 31,
	       "caps/max_watch_len is 2 GiB (%llu)", guest_read_ull(MAX_WATCH_LEN));
	if (slots < 3)
		tap_bail("%d watchpoint pairs: the cases need 3", slots);
	test_blocks(area);
	test_straddle(area, slots);
	test_refused_arm64();
#endif
	guest_check_all_free();
	return tap_done();
}
