// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the arm64 step engine in the kernel: a kernel execute
 * breakpoint is stepped over on every CPU, and interrupts are as they
 * were once the step is over, whatever the instruction:
 *
 *  - an MRS of DAIF (what local_irq_save() emits) must read the caller's
 *    interrupt mask, not the one the step would add;
 *  - a load with an exception-table entry that faults and continues at
 *    its fixup (what get_kernel_nofault() emits) must leave interrupts
 *    enabled at the fixup, and its next execution must be reported again;
 *  - a plain instruction, stepped with interrupts masked, must get them
 *    back.
 *
 * Each instruction is found in a small function of this file with the
 * tree's instruction helpers, and the breakpoint put exactly on it.
 *
 * Also: a wide watchpoint that is unregistered leaves every watchpoint
 * control register disabled on every CPU, and writes afterwards trap
 * nowhere. And range watchpoints: a page takes one pair with DBGWCR.MASK
 * 12, a range across a page boundary two 16-byte blocks, and a range
 * inside a larger block counts writes to its own bytes only.
 * Needs an arm64 CPU with debug registers (QEMU's virt machine has them).
 */

#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/extable.h>
#include <linux/hw_breakpoint.h>
#include <linux/irqflags.h>
#include <linux/perf_event.h>
#include <linux/sizes.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <asm/insn.h>
#include <asm/patching.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>

#define HWBP_TEST_CALLS		3

/* DAIF, read by one MRS. */
static noinline unsigned long hwbp_test_read_daif(void)
{
	return read_sysreg(daif);
}

/* An 8-byte load with a fixup, inlined here: 0, or -EFAULT if it faulted. */
static noinline int hwbp_test_load_nofault(const void *addr)
{
	u64 val;

	__get_kernel_nofault(&val, addr, u64, fault);
	return 0;
fault:
	return -EFAULT;
}

/* Instructions that touch nothing but registers. */
static noinline u64 hwbp_test_plain(u64 x)
{
	return x * 3 + 1;
}

/* Is @insn at @addr the one a test wants its breakpoint on? */
typedef bool (*hwbp_test_match_fn)(u32 insn, unsigned long addr);

static bool hwbp_test_is_mrs_daif(u32 insn, unsigned long addr)
{
	return aarch64_insn_is_mrs(insn) &&
	       aarch64_insn_extract_system_reg(insn) == AARCH64_INSN_SPCLREG_DAIF;
}

static bool hwbp_test_has_fixup(u32 insn, unsigned long addr)
{
	return search_exception_tables(addr);
}

static bool hwbp_test_any(u32 insn, unsigned long addr)
{
	return true;
}

/* The first instruction of @fn that @match picks, within 64. */
static unsigned long hwbp_test_find(struct kunit *test, const void *fn,
				    hwbp_test_match_fn match)
{
	unsigned long addr = (unsigned long)fn;
	int i;
	u32 insn;

	for (i = 0; i < 64; i++, addr += AARCH64_INSN_SIZE) {
		KUNIT_ASSERT_EQ(test, aarch64_insn_read((void *)addr, &insn), 0);
		if (match(insn, addr))
			return addr;
	}
	KUNIT_FAIL_AND_ABORT(test, "no such instruction in %ps", fn);
	return 0;
}

static atomic_t hwbp_test_hits;

static void hwbp_test_count(struct perf_event *bp,
			    struct perf_sample_data *data,
			    struct pt_regs *regs)
{
	atomic_inc(&hwbp_test_hits);
}

/* A kernel execute breakpoint on every CPU at what @match picks in @fn. */
static struct perf_event * __percpu *
hwbp_test_break(struct kunit *test, const void *fn, hwbp_test_match_fn match)
{
	struct perf_event * __percpu *bp;
	struct perf_event_attr attr;

	hw_breakpoint_init(&attr);
	attr.bp_addr = hwbp_test_find(test, fn, match);
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.bp_type = HW_BREAKPOINT_X;
	atomic_set(&hwbp_test_hits, 0);
	bp = register_wide_hw_breakpoint(&attr, hwbp_test_count, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(bp), "register: %d",
			       PTR_ERR_OR_ZERO(bp));
	return bp;
}

static void test_mrs_daif(struct kunit *test)
{
	struct perf_event * __percpu *bp;
	unsigned long daif;
	int i;

	bp = hwbp_test_break(test, hwbp_test_read_daif, hwbp_test_is_mrs_daif);
	for (i = 0; i < HWBP_TEST_CALLS; i++) {
		KUNIT_ASSERT_FALSE(test, irqs_disabled());
		daif = hwbp_test_read_daif();
		KUNIT_EXPECT_FALSE_MSG(test, daif & PSR_I_BIT,
				       "call %d: DAIF read as %#lx under the step",
				       i, daif);
		KUNIT_EXPECT_FALSE_MSG(test, irqs_disabled(),
				       "call %d: interrupts left masked", i);
		local_irq_enable();
	}
	unregister_wide_hw_breakpoint(bp);
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_test_hits), HWBP_TEST_CALLS);
}

static void test_nofault_fixup(struct kunit *test)
{
	struct perf_event * __percpu *bp;
	char *page;
	int i, err;

	/* A vmalloc area ends in an unmapped guard page. */
	page = vmalloc(PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, hwbp_test_load_nofault(page), 0);

	bp = hwbp_test_break(test, hwbp_test_load_nofault, hwbp_test_has_fixup);
	for (i = 0; i < HWBP_TEST_CALLS; i++) {
		err = hwbp_test_load_nofault(page + PAGE_SIZE);
		KUNIT_EXPECT_EQ_MSG(test, err, -EFAULT,
				    "call %d: the load did not fault", i);
		KUNIT_EXPECT_FALSE_MSG(test, irqs_disabled(),
				       "call %d: interrupts masked at the fixup",
				       i);
		local_irq_enable();
	}
	unregister_wide_hw_breakpoint(bp);
	vfree(page);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&hwbp_test_hits),
			    HWBP_TEST_CALLS,
			    "every execution of the abandoned load is a hit");
}

static void test_plain_step(struct kunit *test)
{
	struct perf_event * __percpu *bp;
	int i;

	bp = hwbp_test_break(test, hwbp_test_plain, hwbp_test_any);
	for (i = 0; i < HWBP_TEST_CALLS; i++) {
		KUNIT_EXPECT_EQ(test, hwbp_test_plain(i), i * 3 + 1);
		KUNIT_EXPECT_FALSE_MSG(test, irqs_disabled(),
				       "call %d: interrupts left masked", i);
		local_irq_enable();
	}
	unregister_wide_hw_breakpoint(bp);
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_test_hits), HWBP_TEST_CALLS);
}

/*
 * DBGWCR<n>_EL1 of this CPU. MRS encodes the register number in the
 * instruction, so each one is its own read.
 */
static u64 hwbp_test_read_wcr(unsigned int n)
{
	switch (n) {
	case 0:
		return read_sysreg(dbgwcr0_el1);
	case 1:
		return read_sysreg(dbgwcr1_el1);
	case 2:
		return read_sysreg(dbgwcr2_el1);
	case 3:
		return read_sysreg(dbgwcr3_el1);
	case 4:
		return read_sysreg(dbgwcr4_el1);
	case 5:
		return read_sysreg(dbgwcr5_el1);
	case 6:
		return read_sysreg(dbgwcr6_el1);
	case 7:
		return read_sysreg(dbgwcr7_el1);
	case 8:
		return read_sysreg(dbgwcr8_el1);
	case 9:
		return read_sysreg(dbgwcr9_el1);
	case 10:
		return read_sysreg(dbgwcr10_el1);
	case 11:
		return read_sysreg(dbgwcr11_el1);
	case 12:
		return read_sysreg(dbgwcr12_el1);
	case 13:
		return read_sysreg(dbgwcr13_el1);
	case 14:
		return read_sysreg(dbgwcr14_el1);
	case 15:
		return read_sysreg(dbgwcr15_el1);
	}
	return 0;
}

static unsigned long hwbp_test_watched;
static unsigned int hwbp_test_enabled[NR_CPUS];

/* On each CPU: count the enabled watchpoints, then write the watched word. */
static void hwbp_test_read_back(void *unused)
{
	int slots = hw_breakpoint_slots(TYPE_DATA), cpu = smp_processor_id(), n;

	hwbp_test_enabled[cpu] = 0;
	for (n = 0; n < slots; n++)
		if (hwbp_test_read_wcr(n) & ARM_DBG_CTRL_E)
			hwbp_test_enabled[cpu]++;
	WRITE_ONCE(hwbp_test_watched, hwbp_test_watched + 1);
}

static void test_unregister_clears(struct kunit *test)
{
	struct perf_event * __percpu *bp;
	struct perf_event_attr attr;
	int cpu;

	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");
	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&hwbp_test_watched;
	attr.bp_len = HW_BREAKPOINT_LEN_8;
	attr.bp_type = HW_BREAKPOINT_W;
	atomic_set(&hwbp_test_hits, 0);
	bp = register_wide_hw_breakpoint(&attr, hwbp_test_count, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)bp));

	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, hwbp_test_read_back, NULL, 1);
		KUNIT_EXPECT_EQ_MSG(test, hwbp_test_enabled[cpu], 1,
				    "CPU %d: enabled watchpoints", cpu);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_test_hits), num_online_cpus());

	unregister_wide_hw_breakpoint(bp);
	atomic_set(&hwbp_test_hits, 0);
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, hwbp_test_read_back, NULL, 1);
		KUNIT_EXPECT_EQ_MSG(test, hwbp_test_enabled[cpu], 0,
				    "CPU %d: watchpoints enabled after unregistering",
				    cpu);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_test_hits), 0);
}

/* Two pages to watch ranges of, and the pairs a CPU has enabled. */
static u8 hwbp_test_area[2 * PAGE_SIZE] __aligned(PAGE_SIZE);
static u64 hwbp_test_wcr[HW_BREAKPOINT_MAX_REGS];
static int hwbp_test_nr_wcr;

/* This CPU's enabled DBGWCR values, into hwbp_test_wcr[]. */
static void hwbp_test_enabled_wcrs(void *unused)
{
	int slots = hw_breakpoint_slots(TYPE_DATA), n;
	u64 wcr;

	hwbp_test_nr_wcr = 0;
	for (n = 0; n < slots; n++) {
		wcr = hwbp_test_read_wcr(n);
		if (wcr & ARM_DBG_CTRL_E)
			hwbp_test_wcr[hwbp_test_nr_wcr++] = wcr;
	}
}

/*
 * A wide write watchpoint on @len bytes at hwbp_test_area + @offset: on
 * this CPU, the enabled pairs must be @nr_blocks, of MASK @mask with BAS
 * 0xff, and a write of each of @offsets[0..@nr) must count @counts[i].
 */
static void hwbp_test_range(struct kunit *test, unsigned long offset,
			    unsigned long len, int nr_blocks,
			    unsigned int mask, const long *offsets,
			    const int *counts, int nr)
{
	struct perf_event * __percpu *bp;
	struct perf_event_attr attr;
	int i, before, got[8];

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)hwbp_test_area + offset;
	attr.bp_len = len;
	attr.bp_type = HW_BREAKPOINT_W;
	atomic_set(&hwbp_test_hits, 0);
	bp = register_wide_hw_breakpoint(&attr, hwbp_test_count, NULL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR((void __force *)bp),
			       "%lu bytes at +%lu: %d", len, offset,
			       PTR_ERR_OR_ZERO((void __force *)bp));

	/* On one CPU, the one whose registers are read; checked after. */
	KUNIT_ASSERT_LE(test, nr, ARRAY_SIZE(got));
	preempt_disable();
	hwbp_test_enabled_wcrs(NULL);
	for (i = 0; i < nr; i++) {
		before = atomic_read(&hwbp_test_hits);
		WRITE_ONCE(hwbp_test_area[offsets[i]], i);
		got[i] = atomic_read(&hwbp_test_hits) - before;
	}
	preempt_enable();
	unregister_wide_hw_breakpoint(bp);

	KUNIT_EXPECT_EQ_MSG(test, hwbp_test_nr_wcr, nr_blocks,
			    "%lu bytes at +%lu: enabled pairs", len, offset);
	for (i = 0; i < hwbp_test_nr_wcr; i++) {
		KUNIT_EXPECT_EQ(test, FIELD_GET(ARM_DBG_CTRL_MASK,
						hwbp_test_wcr[i]), mask);
		KUNIT_EXPECT_EQ(test, FIELD_GET(ARM_DBG_CTRL_BAS,
						hwbp_test_wcr[i]), 0xff);
	}
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, got[i], counts[i],
				    "%lu bytes at +%lu: a write at %+ld", len,
				    offset, offsets[i] - (long)offset);
}

static void test_range_page(struct kunit *test)
{
	static const long offsets[] = { 0, 1, 2048, PAGE_SIZE - 1, PAGE_SIZE };
	static const int counts[] = { 1, 1, 1, 1, 0 };

	if (PAGE_SIZE != SZ_4K)
		kunit_skip(test, "the case is written for 4 KiB pages");
	hwbp_test_range(test, 0, SZ_4K, 1, 12, offsets, counts,
			ARRAY_SIZE(offsets));
}

/*
 * 32 bytes across the page boundary: one block would be 8 KiB, so two of
 * 16 bytes, one each side. The bytes just outside do not count.
 */
static void test_range_straddles(struct kunit *test)
{
	static const long offsets[] = {
		PAGE_SIZE - 17, PAGE_SIZE - 16, PAGE_SIZE - 1, PAGE_SIZE,
		PAGE_SIZE + 15, PAGE_SIZE + 16,
	};
	static const int counts[] = { 0, 1, 1, 1, 1, 0 };

	hwbp_test_range(test, PAGE_SIZE - 16, 32, 2, 4, offsets, counts,
			ARRAY_SIZE(offsets));
}

/*
 * 24 bytes at +36 take one 32-byte block at +32: writes to its other
 * bytes trap, are stepped over and are not counted; +0 is outside it.
 */
static void test_range_filters(struct kunit *test)
{
	static const long offsets[] = { 0, 35, 36, 59, 60, 63 };
	static const int counts[] = { 0, 0, 1, 1, 0, 0 };

	hwbp_test_range(test, 36, 24, 1, 5, offsets, counts,
			ARRAY_SIZE(offsets));
}

static struct kunit_case hwbp_arm64_cases[] = {
	KUNIT_CASE(test_mrs_daif),
	KUNIT_CASE(test_nofault_fixup),
	KUNIT_CASE(test_plain_step),
	KUNIT_CASE(test_unregister_clears),
	KUNIT_CASE(test_range_page),
	KUNIT_CASE(test_range_straddles),
	KUNIT_CASE(test_range_filters),
	{}
};

static struct kunit_suite hwbp_arm64_suite = {
	.name = "hw_breakpoint_arm64",
	.test_cases = hwbp_arm64_cases,
};

kunit_test_suites(&hwbp_arm64_suite);

MODULE_DESCRIPTION("KUnit suite for the arm64 hardware-breakpoint step engine");
MODULE_LICENSE("GPL");
