// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the x86 refusals: a kernel watchpoint on memory that the
 * #DB entry touches while the breakpoints are still armed would recurse
 * #DB on its IST stack, so each such object is refused with -EINVAL, on
 * every possible CPU, at its first and its last byte; an ordinary kernel
 * variable next to them is accepted.
 *
 * Only the request is made: a refusal that regressed is unregistered
 * before anything can hit it. See x86_bp_in_entry_path().
 *
 * Also: a wide watchpoint that is unregistered leaves DR7 and cpu_dr7
 * clear on every CPU, and writes afterwards trap nowhere; and the slots
 * the core chooses are the ones programmed, each with its own address
 * and DR7 field, and cleared one by one; and a range takes one slot per
 * aligned piece, and one #DB that names several of them is one hit; and a
 * range moved by modify_local_hw_breakpoint_addr() is split anew, and
 * hw_breakpoint_restore() puts back its new addresses.
 */

#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/smp.h>
#include <linux/hw_breakpoint.h>
#include <linux/kdebug.h>
#include <linux/percpu.h>
#include <linux/perf_event.h>
#include <linux/processor.h>

#include <asm/cpu_entry_area.h>
#include <asm/current.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/nospec-branch.h>
#include <asm/tlbflush.h>

static u64 hwbp_x86_test_plain;

static void hwbp_x86_test_nop(struct perf_event *bp,
			      struct perf_sample_data *data,
			      struct pt_regs *regs)
{
}

/* The result of a read/write watchpoint of @len bytes at @addr on @cpu. */
static long hwbp_x86_try(const void *addr, unsigned int len, int cpu)
{
	struct perf_event_attr attr;
	struct perf_event *bp;

	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)addr;
	attr.bp_len = len;
	attr.bp_type = HW_BREAKPOINT_RW;
	bp = perf_event_create_kernel_counter(&attr, cpu, NULL,
					      hwbp_x86_test_nop, NULL);
	if (IS_ERR(bp))
		return PTR_ERR(bp);
	unregister_hw_breakpoint(bp);
	return 0;
}

/* @size bytes at @obj refused on @cpu: the first and the last byte. */
static void hwbp_x86_expect_refused(struct kunit *test, const char *what,
				    const void *obj, size_t size, int cpu)
{
	const char *last = (const char *)obj + size - 1;

	KUNIT_EXPECT_EQ_MSG(test, hwbp_x86_try(obj, HW_BREAKPOINT_LEN_1, cpu),
			    -EINVAL, "%s (first byte) on CPU %d", what, cpu);
	KUNIT_EXPECT_EQ_MSG(test, hwbp_x86_try(last, HW_BREAKPOINT_LEN_1, cpu),
			    -EINVAL, "%s (last byte) on CPU %d", what, cpu);
}

static void test_entry_path_refused(struct kunit *test)
{
	int cpu = cpumask_first(cpu_online_mask), n;

	hwbp_x86_expect_refused(test, "the CPU entry area",
				(void *)CPU_ENTRY_AREA_BASE, PAGE_SIZE, cpu);
	hwbp_x86_expect_refused(test, "x86_pred_cmd", &x86_pred_cmd,
				sizeof(x86_pred_cmd), cpu);

	for_each_possible_cpu(n) {
		hwbp_x86_expect_refused(test, "pcpu_hot", &per_cpu(pcpu_hot, n),
					sizeof(struct pcpu_hot), cpu);
		hwbp_x86_expect_refused(test, "x86_spec_ctrl_current",
					&per_cpu(x86_spec_ctrl_current, n),
					sizeof(u64), cpu);
#ifdef CONFIG_X86_64
		hwbp_x86_expect_refused(test, "fixed_percpu_data",
					&per_cpu(fixed_percpu_data, n),
					sizeof(struct fixed_percpu_data), cpu);
#endif
		hwbp_x86_expect_refused(test, "cpu_tss_rw",
					&per_cpu(cpu_tss_rw, n),
					sizeof(struct tss_struct), cpu);
		hwbp_x86_expect_refused(test, "cpu_tlbstate",
					&per_cpu(cpu_tlbstate, n),
					sizeof(struct tlb_state), cpu);
		hwbp_x86_expect_refused(test, "cpu_dr7", &per_cpu(cpu_dr7, n),
					sizeof(unsigned long), cpu);
		hwbp_x86_expect_refused(test, "the GDT", get_cpu_gdt_rw(n),
					GDT_SIZE, cpu);
	}
}

static void test_plain_variable_accepted(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, hwbp_x86_try(&hwbp_x86_test_plain,
					   HW_BREAKPOINT_LEN_8,
					   cpumask_first(cpu_online_mask)), 0);
}

/* DR7 enable bits of every slot, and the kernel's copy of DR7. */
#define HWBP_X86_DR7_ENABLES	(DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK)

static unsigned long hwbp_x86_test_watched;
static unsigned long hwbp_x86_dr7[NR_CPUS], hwbp_x86_cpu_dr7[NR_CPUS];
static atomic_t hwbp_x86_hits;

static void hwbp_x86_test_count(struct perf_event *bp,
				struct perf_sample_data *data,
				struct pt_regs *regs)
{
	atomic_inc(&hwbp_x86_hits);
}

/* On each CPU: record DR7 and cpu_dr7, then write the watched word. */
static void hwbp_x86_read_back(void *unused)
{
	int cpu = smp_processor_id();

	get_debugreg(hwbp_x86_dr7[cpu], 7);
	hwbp_x86_cpu_dr7[cpu] = this_cpu_read(cpu_dr7);
	WRITE_ONCE(hwbp_x86_test_watched, hwbp_x86_test_watched + 1);
}

static void test_unregister_clears(struct kunit *test)
{
	struct perf_event *__percpu *wide;
	struct perf_event_attr attr;
	int cpu;

	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");
	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&hwbp_x86_test_watched;
	attr.bp_len = HW_BREAKPOINT_LEN_8;
	attr.bp_type = HW_BREAKPOINT_W;
	wide = register_wide_hw_breakpoint(&attr, hwbp_x86_test_count, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)wide));

	atomic_set(&hwbp_x86_hits, 0);
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, hwbp_x86_read_back, NULL, 1);
		KUNIT_EXPECT_NE_MSG(test, hwbp_x86_dr7[cpu] & HWBP_X86_DR7_ENABLES,
				    0, "CPU %d: DR7 %#lx, armed", cpu,
				    hwbp_x86_dr7[cpu]);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_x86_hits), num_online_cpus());

	unregister_wide_hw_breakpoint(wide);
	atomic_set(&hwbp_x86_hits, 0);
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, hwbp_x86_read_back, NULL, 1);
		KUNIT_EXPECT_EQ_MSG(test, hwbp_x86_dr7[cpu] & HWBP_X86_DR7_ENABLES,
				    0, "CPU %d: DR7 %#lx after unregistering", cpu,
				    hwbp_x86_dr7[cpu]);
		KUNIT_EXPECT_EQ_MSG(test, hwbp_x86_cpu_dr7[cpu], 0,
				    "CPU %d: cpu_dr7 after unregistering", cpu);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_x86_hits), 0);
}

/* One slot's length and type field in DR7. */
#define HWBP_X86_FIELD		(BIT(DR_CONTROL_SIZE) - 1)

/* Three watched words, and what each CPU's DR0-DR3 and DR7 hold. */
static unsigned long hwbp_x86_words[3];
static unsigned long hwbp_x86_dr[NR_CPUS][HBP_NUM];

static void hwbp_x86_read_regs(void *unused)
{
	int cpu = smp_processor_id();

	get_debugreg(hwbp_x86_dr[cpu][0], 0);
	get_debugreg(hwbp_x86_dr[cpu][1], 1);
	get_debugreg(hwbp_x86_dr[cpu][2], 2);
	get_debugreg(hwbp_x86_dr[cpu][3], 3);
	get_debugreg(hwbp_x86_dr7[cpu], 7);
}

/*
 * On every CPU, exactly the words whose bit is in @live are armed: each
 * in one enabled slot, with an 8-byte write field, and no other slot
 * enabled.
 */
static void hwbp_x86_expect_armed(struct kunit *test, unsigned int live)
{
	unsigned long field = encode_dr7(0, X86_BREAKPOINT_LEN_8,
					 X86_BREAKPOINT_WRITE);
	int cpu, slot, w;

	for_each_online_cpu(cpu) {
		int found[ARRAY_SIZE(hwbp_x86_words)] = {}, enabled = 0;

		smp_call_function_single(cpu, hwbp_x86_read_regs, NULL, 1);
		for (slot = 0; slot < HBP_NUM; slot++) {
			unsigned long dr7 = hwbp_x86_dr7[cpu];

			if (!(dr7 & (encode_dr7(slot, X86_BREAKPOINT_LEN_8,
						X86_BREAKPOINT_WRITE) &
				     HWBP_X86_DR7_ENABLES)))
				continue;
			enabled++;
			/* The field moves by 4 bits per slot; enables by 2. */
			KUNIT_EXPECT_EQ_MSG(test,
					    (dr7 >> (DR_CONTROL_SHIFT + slot * DR_CONTROL_SIZE)) &
					    HWBP_X86_FIELD,
					    (field >> DR_CONTROL_SHIFT) & HWBP_X86_FIELD,
					    "CPU %d slot %d: DR7 %#lx", cpu, slot, dr7);
			for (w = 0; w < ARRAY_SIZE(hwbp_x86_words); w++)
				found[w] += hwbp_x86_dr[cpu][slot] ==
					    (unsigned long)&hwbp_x86_words[w];
		}
		KUNIT_EXPECT_EQ_MSG(test, enabled, hweight32(live),
				    "CPU %d: enabled slots, DR7 %#lx", cpu,
				    hwbp_x86_dr7[cpu]);
		for (w = 0; w < ARRAY_SIZE(hwbp_x86_words); w++)
			KUNIT_EXPECT_EQ_MSG(test, found[w], !!(live & BIT(w)),
					    "CPU %d: word %d in an enabled slot",
					    cpu, w);
	}
}

/*
 * The core chooses the slots and x86 programs them: three wide
 * watchpoints land in three slots of every CPU, each with its own
 * address and DR7 field, and unregistering the middle one disables its
 * slot and no other.
 */
static void test_slots_programmed(struct kunit *test)
{
	struct perf_event *__percpu *wide[ARRAY_SIZE(hwbp_x86_words)];
	struct perf_event_attr attr;
	int w;

	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");
	for (w = 0; w < ARRAY_SIZE(hwbp_x86_words); w++) {
		hw_breakpoint_init(&attr);
		attr.bp_addr = (unsigned long)&hwbp_x86_words[w];
		attr.bp_len = HW_BREAKPOINT_LEN_8;
		attr.bp_type = HW_BREAKPOINT_W;
		wide[w] = register_wide_hw_breakpoint(&attr, hwbp_x86_test_nop,
						      NULL);
		if (IS_ERR((void __force *)wide[w])) {
			KUNIT_FAIL(test, "wide watchpoint %d: %ld", w,
				   PTR_ERR((void __force *)wide[w]));
			while (w--)
				unregister_wide_hw_breakpoint(wide[w]);
			return;
		}
	}
	hwbp_x86_expect_armed(test, 0x7);
	unregister_wide_hw_breakpoint(wide[1]);
	hwbp_x86_expect_armed(test, 0x5);
	unregister_wide_hw_breakpoint(wide[0]);
	unregister_wide_hw_breakpoint(wide[2]);
	hwbp_x86_expect_armed(test, 0);
}

/*
 * A range over several slots: 13 bytes 3 past a quadword are its 1 byte
 * at +3, 4 bytes at +4 and 8 at +8, each in one enabled slot with that
 * length, on every CPU.
 */
static void test_range_pieces(struct kunit *test)
{
	static const struct { unsigned int off, len; } want[] = {
		{ 3, X86_BREAKPOINT_LEN_1 },
		{ 4, X86_BREAKPOINT_LEN_4 },
		{ 8, X86_BREAKPOINT_LEN_8 },
	};
	unsigned long base = (unsigned long)&hwbp_x86_words[0];
	struct perf_event *__percpu *wide;
	struct perf_event_attr attr;
	int cpu, slot, i;

	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");
	hw_breakpoint_init(&attr);
	attr.bp_addr = base + 3;
	attr.bp_len = 13;
	attr.bp_type = HW_BREAKPOINT_W;
	wide = register_wide_hw_breakpoint(&attr, hwbp_x86_test_nop, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)wide));

	for_each_online_cpu(cpu) {
		int found[ARRAY_SIZE(want)] = {}, enabled = 0;

		smp_call_function_single(cpu, hwbp_x86_read_regs, NULL, 1);
		for (slot = 0; slot < HBP_NUM; slot++) {
			unsigned long dr7 = hwbp_x86_dr7[cpu], field;

			if (!(dr7 & (encode_dr7(slot, X86_BREAKPOINT_LEN_1,
						X86_BREAKPOINT_WRITE) &
				     HWBP_X86_DR7_ENABLES)))
				continue;
			enabled++;
			field = (dr7 >> (DR_CONTROL_SHIFT + slot * DR_CONTROL_SIZE)) &
				HWBP_X86_FIELD;
			for (i = 0; i < ARRAY_SIZE(want); i++) {
				unsigned long expect =
					(encode_dr7(0, want[i].len,
						    X86_BREAKPOINT_WRITE) >>
					 DR_CONTROL_SHIFT) & HWBP_X86_FIELD;

				found[i] += hwbp_x86_dr[cpu][slot] ==
					    base + want[i].off &&
					    field == expect;
			}
		}
		KUNIT_EXPECT_EQ_MSG(test, enabled, 3, "CPU %d: slots of 13 bytes",
				    cpu);
		for (i = 0; i < ARRAY_SIZE(want); i++)
			KUNIT_EXPECT_EQ_MSG(test, found[i], 1,
					    "CPU %d: the piece at +%u", cpu,
					    want[i].off);
	}
	unregister_wide_hw_breakpoint(wide);
	hwbp_x86_expect_armed(test, 0);
}

static atomic_t hwbp_x86_range_hits;

static void hwbp_x86_range_count(struct perf_event *bp,
				 struct perf_sample_data *data,
				 struct pt_regs *regs)
{
	atomic_inc(&hwbp_x86_range_hits);
}

/*
 * One #DB whose DR6 names every slot of a 12-byte range (an access
 * across its pieces) is one hit, and all those DR6 bits are consumed. The
 * #DB is the die notifier's, called as exc_debug() calls it, with a DR6
 * made up here: QEMU's TCG names one slot per access.
 */
static void test_range_one_hit(struct kunit *test)
{
	struct perf_event *__percpu *wide;
	struct pt_regs regs = { };
	struct perf_event_attr attr;
	unsigned long dr6 = 0, dr7, named, flags;
	struct die_args args = {
		.regs = &regs, .err = (long)&dr6, .str = "debug",
	};
	int slot, cpu, ret;

	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");
	/* 12 bytes 4 past a word: no power of two, so never AMD's masks. */
	hw_breakpoint_init(&attr);
	attr.bp_addr = (unsigned long)&hwbp_x86_words[0] + 4;
	attr.bp_len = 12;
	attr.bp_type = HW_BREAKPOINT_W;
	wide = register_wide_hw_breakpoint(&attr, hwbp_x86_range_count, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR((void __force *)wide));

	atomic_set(&hwbp_x86_range_hits, 0);
	local_irq_save(flags);
	cpu = smp_processor_id();
	get_debugreg(dr7, 7);
	for (slot = 0; slot < HBP_NUM; slot++) {
		if (dr7 & (encode_dr7(slot, X86_BREAKPOINT_LEN_8,
				      X86_BREAKPOINT_WRITE) & HWBP_X86_DR7_ENABLES))
			dr6 |= DR_TRAP0 << slot;
	}
	named = dr6;
	ret = hw_breakpoint_exceptions_notify(NULL, DIE_DEBUG, &args);
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ_MSG(test, hweight_long(named),
			    IS_ENABLED(CONFIG_X86_64) ? 2 : 3,
			    "CPU %d: slots of a 12-byte range", cpu);
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_x86_range_hits), 1);
	KUNIT_EXPECT_EQ_MSG(test, dr6 & DR_TRAP_BITS, 0,
			    "DR6 bits left for others: %#lx", dr6);
	KUNIT_EXPECT_EQ(test, ret, NOTIFY_STOP);
	unregister_wide_hw_breakpoint(wide);
}

/*
 * A range that ends at the last byte of the address space has as many
 * pieces as anywhere else: its end is not a number that wraps to 0.
 */
static void test_range_at_top(struct kunit *test)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT, .bp_type = HW_BREAKPOINT_W,
	};

	attr.bp_addr = ~0UL - 12;
	attr.bp_len = 13;
	KUNIT_EXPECT_EQ(test, arch_hw_breakpoint_weight(&attr),
			IS_ENABLED(CONFIG_X86_64) ? 3 : 4);
	attr.bp_addr = ~0UL - 15;
	attr.bp_len = 16;
	KUNIT_EXPECT_EQ(test, arch_hw_breakpoint_weight(&attr),
			IS_ENABLED(CONFIG_X86_64) ? 2 : 4);
}

/* Whether this CPU has an enabled slot holding @len bytes at @addr. */
static bool hwbp_x86_has_piece(int cpu, unsigned long addr, unsigned int len)
{
	unsigned long want = (encode_dr7(0, len, X86_BREAKPOINT_WRITE) >>
			      DR_CONTROL_SHIFT) & HWBP_X86_FIELD;
	unsigned long dr7 = hwbp_x86_dr7[cpu];
	int slot;

	for (slot = 0; slot < HBP_NUM; slot++) {
		if (!(dr7 & (encode_dr7(slot, len, X86_BREAKPOINT_WRITE) &
			     HWBP_X86_DR7_ENABLES)))
			continue;
		if (hwbp_x86_dr[cpu][slot] == addr &&
		    ((dr7 >> (DR_CONTROL_SHIFT + slot * DR_CONTROL_SIZE)) &
		     HWBP_X86_FIELD) == want)
			return true;
	}
	return false;
}

/*
 * modify_local_hw_breakpoint_addr() on a range: 6 bytes at a word (4 at
 * +0, 2 at +4) moved to +2 is split anew into 2 at +2 and 4 at +4, DR7's
 * fields rewritten with the addresses; moved to +1 it would need four
 * slots, and is refused. The new addresses are what hw_breakpoint_restore()
 * puts back after something else used DR0-DR3 (KVM, kgdb), and a write to
 * the old first bytes no longer hits while one at the new last byte does.
 */
static void test_move_resplit_restore(struct kunit *test)
{
	unsigned long base = (unsigned long)&hwbp_x86_words[0];
	struct perf_event_attr attr;
	unsigned long flags;
	struct perf_event *bp;
	int cpu, ret, slot;
	bool old_gone, new_in;

	KUNIT_ASSERT_FALSE_MSG(test, hw_breakpoint_is_used(),
			       "breakpoints held before the test");
	hw_breakpoint_init(&attr);
	attr.bp_addr = base;
	attr.bp_len = 6;
	attr.bp_type = HW_BREAKPOINT_W;

	migrate_disable();
	cpu = smp_processor_id();
	bp = perf_event_create_kernel_counter(&attr, cpu, NULL,
					      hwbp_x86_test_count, NULL);
	if (IS_ERR(bp)) {
		migrate_enable();
		KUNIT_FAIL(test, "6 bytes at a word: %ld", PTR_ERR(bp));
		return;
	}

	atomic_set(&hwbp_x86_hits, 0);
	local_irq_save(flags);
	hwbp_x86_read_regs(NULL);
	KUNIT_EXPECT_TRUE(test, hwbp_x86_has_piece(cpu, base, X86_BREAKPOINT_LEN_4));
	KUNIT_EXPECT_TRUE(test, hwbp_x86_has_piece(cpu, base + 4, X86_BREAKPOINT_LEN_2));

	KUNIT_EXPECT_EQ(test, modify_local_hw_breakpoint_addr(bp, base + 1),
			-EINVAL);
	ret = modify_local_hw_breakpoint_addr(bp, base + 2);

	/* Something else takes the registers, then gives them back. */
	for (slot = 0; slot < HBP_NUM; slot++)
		set_debugreg(0UL, slot);
	hw_breakpoint_restore();
	hwbp_x86_read_regs(NULL);
	new_in = hwbp_x86_has_piece(cpu, base + 2, X86_BREAKPOINT_LEN_2) &&
		 hwbp_x86_has_piece(cpu, base + 4, X86_BREAKPOINT_LEN_4);
	old_gone = !hwbp_x86_has_piece(cpu, base, X86_BREAKPOINT_LEN_4) &&
		   !hwbp_x86_has_piece(cpu, base + 4, X86_BREAKPOINT_LEN_2);
	WRITE_ONCE(*(u8 *)base, 1);
	WRITE_ONCE(*(u8 *)(base + 7), 1);
	local_irq_restore(flags);
	migrate_enable();

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, hw_breakpoint_addr(bp), base + 2);
	KUNIT_EXPECT_TRUE_MSG(test, new_in, "DR7 %#lx, DR0-3 %#lx %#lx %#lx %#lx",
			      hwbp_x86_dr7[cpu], hwbp_x86_dr[cpu][0],
			      hwbp_x86_dr[cpu][1], hwbp_x86_dr[cpu][2],
			      hwbp_x86_dr[cpu][3]);
	KUNIT_EXPECT_TRUE(test, old_gone);
	KUNIT_EXPECT_EQ(test, atomic_read(&hwbp_x86_hits), 1);
	unregister_hw_breakpoint(bp);
}

static struct kunit_case hwbp_x86_cases[] = {
	KUNIT_CASE(test_entry_path_refused),
	KUNIT_CASE(test_plain_variable_accepted),
	KUNIT_CASE(test_unregister_clears),
	KUNIT_CASE(test_slots_programmed),
	KUNIT_CASE(test_range_pieces),
	KUNIT_CASE(test_range_one_hit),
	KUNIT_CASE(test_range_at_top),
	KUNIT_CASE(test_move_resplit_restore),
	{}
};

static struct kunit_suite hwbp_x86_suite = {
	.name = "hw_breakpoint_x86",
	.test_cases = hwbp_x86_cases,
};

kunit_test_suites(&hwbp_x86_suite);

MODULE_DESCRIPTION("KUnit suite for the x86 hardware-breakpoint refusals");
MODULE_LICENSE("GPL");
