// SPDX-License-Identifier: GPL-2.0
/*
 * The program the clients suite (clients.sh) points Debian's perf and gdb
 * at: known data and code, accessed a known number of times, so that
 * every count the tools report can be checked exactly.
 *
 *   bp_target addr        print "<name> <address>" for what the suite
 *                         watches, and "kclear 0|1": whether the kernel's
 *                         zeroing of the partial .bss page at exec writes
 *                         bp_word (one more hit when kernel writes count)
 *   bp_target write N     bp_writer(): stores 1..N to bp_word.lo
 *   bp_target read N      bp_reader(): N loads of bp_word.lo
 *   bp_target rw N        bp_rw(): N times a store to bp_word.lo, then a load
 *   bp_target split N M   bp_split(): N stores to bp_word.lo, M to bp_word.hi
 *   bp_target call N      bp_func() called N times
 *   bp_target many N      bp_spread(): N stores to each word of bp_many
 *
 * Every access is volatile and every function noipa, so the compiler
 * neither merges nor drops one, and the writes happen inside the function
 * a sampled IP should be attributed to.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOIPA __attribute__((noinline, noipa))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Two 4-byte halves of one aligned 8-byte word: lengths are checkable. */
struct bp_pair {
	volatile int lo;
	volatile int hi;
} __attribute__((aligned(8)));

struct bp_pair bp_word;
/*
 * More separate aligned words than any of our CPUs has watchpoints (twice
 * four, for perf stat's multiplexed ones), and on the same page an
 * unwatched one stored to after each: QEMU 7.2's x86 TCG keeps a
 * watchpoint's hit flag until an access to its page matches none, and
 * names every flagged one in DR6 on the next #DB. gdb watches
 * ((long *)&bp_many)[i].
 */
struct bp_many_words {
	volatile long	w[8];
	volatile long	scrub;
} bp_many __attribute__((aligned(128)));
volatile long bp_sink;

/* Where the ELF loader's data ends: the partial page it clears after it. */
extern char _edata[];

NOIPA void bp_writer(long n)
{
	for (long i = 1; i <= n; i++)
		bp_word.lo = (int)i;
}

NOIPA long bp_reader(long n)
{
	long sum = 0;

	for (long i = 0; i < n; i++)
		sum += bp_word.lo;
	return sum;
}

NOIPA long bp_rw(long n)
{
	long sum = 0;

	for (long i = 1; i <= n; i++) {
		bp_word.lo = (int)i;
		sum += bp_word.lo;
	}
	return sum;
}

NOIPA void bp_split(long lo, long hi)
{
	for (long i = 1; i <= lo; i++)
		bp_word.lo = (int)i;
	for (long i = 1; i <= hi; i++)
		bp_word.hi = (int)i;
}

NOIPA long bp_func(long x)
{
	bp_sink = x;
	return x + 1;
}

NOIPA void bp_spread(long n)
{
	for (long i = 1; i <= n; i++)
		for (unsigned int w = 0; w < ARRAY_SIZE(bp_many.w); w++) {
			bp_many.w[w] = i;
			bp_many.scrub = i;
		}
}

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (!*s || *end || v < 0) {
		fprintf(stderr, "bp_target: bad count '%s'\n", s);
		exit(2);
	}
	return v;
}

static void addresses(void)
{
	uintptr_t page = 4096;
	uintptr_t edata = (uintptr_t)_edata;
	uintptr_t word = (uintptr_t)&bp_word;
	/* binfmt_elf zeroes from the end of the file data to its page end. */
	int kclear = word >= edata && word < ((edata + page - 1) & ~(page - 1));

	printf("bp_word %p\n", (void *)&bp_word);
	printf("bp_word_hi %p\n", (void *)&bp_word.hi);
	printf("bp_func %p\n", (void *)bp_func);
	for (unsigned int w = 0; w < ARRAY_SIZE(bp_many.w); w++)
		printf("bp_many%u %p\n", w, (void *)&bp_many.w[w]);
	printf("kclear %d\n", kclear);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long n = argc > 2 ? number(argv[2]) : 0;

	if (!strcmp(mode, "addr") && argc == 2) {
		addresses();
	} else if (!strcmp(mode, "write") && argc == 3) {
		bp_writer(n);
	} else if (!strcmp(mode, "read") && argc == 3) {
		bp_sink = bp_reader(n);
	} else if (!strcmp(mode, "rw") && argc == 3) {
		bp_sink = bp_rw(n);
	} else if (!strcmp(mode, "split") && argc == 4) {
		bp_split(n, number(argv[3]));
	} else if (!strcmp(mode, "call") && argc == 3) {
		for (long i = 0; i < n; i++)
			bp_func(i);
	} else if (!strcmp(mode, "many") && argc == 3) {
		bp_spread(n);
	} else {
		fprintf(stderr, "usage: bp_target addr | write|read|rw|call|many N | split N M\n");
		return 2;
	}
	return 0;
}
