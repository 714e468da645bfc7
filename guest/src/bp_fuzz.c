// SPDX-License-Identifier: GPL-2.0
/*
 * Bad-input fuzzer for breakpoint events and debug-register ptrace: random
 * perf_event_attr for PERF_TYPE_BREAKPOINT (type bits, lengths, kernel,
 * non-canonical and misaligned addresses, flags, sampling) as root and as
 * an unprivileged user, and random debug-register writes through ptrace.
 *
 * Every perf_event_open() is checked against an oracle: expected_errno(),
 * a small model of the checks the kernel makes, in the order it makes
 * them (perf core, generic breakpoint layer, arch backend), says whether
 * the call must give an fd or exactly which errno. Any other outcome is a
 * mismatch; the first few are printed. The ptrace writes (x86 POKEUSER
 * of DR0-3, DR6, DR7; arm64 SETREGSET of NT_ARM_HW_BREAK/WATCH of any
 * size; 32-bit arm SETHBPREGS of any register number) are checked the
 * same way against a model of the tracee's
 * registers that follows every write, partial ones and DR7's roll-back
 * included. Afterwards every slot must be free again. The harness checks
 * that the kernel log stays clean. Seeded:
 * "bp_fuzz SEED ITERATIONS" replays a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "tap.h"
#include "hwbp_guest.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t pick(const uint64_t *vals, size_t n)
{
	return vals[rnd() % n];
}

#define PICK(a) pick(a, sizeof(a) / sizeof((a)[0]))

static volatile uint64_t var[8] __attribute__((aligned(64)));

/* === What the model needs to know about this kernel and machine === */

#define MAX_CPUS	4096

/* A check whose outcome the model cannot know for this attr. */
#define MODEL_UNKNOWN	(-1)

static struct {
	/* /proc/sys/kernel/perf_event_paranoid (default 2, see read_env()). */
	int		paranoid;
	/* nr_cpu_ids: the last possible CPU plus one. */
	int		nr_cpu_ids;
	unsigned char	online[MAX_CPUS];
	/* TASK_SIZE_MAX of this kernel. */
	uint64_t	task_size_max;
	/* CONFIG_KPROBES: 1, 0, or -1 when /proc/kallsyms could not say. */
	int		kprobes;
	/* From /proc/kallsyms, 0 when unknown; text ranges are [start, end). */
	uint64_t	entry_text[2], noinstr_text[2];
	uint64_t	bp_func;	/* hw_breakpoint_is_used(): plain text */
	/* Registers per CPU: hw_breakpoint_slots(TYPE_INST / TYPE_DATA). */
	int		inst_slots, data_slots;
#if defined(__x86_64__)
	int		la57;		/* 5-level paging */
	int		bpext;		/* X86_FEATURE_BPEXT */
	uint64_t	free_end;	/* see x86_entry_overlap() */
	uint64_t	pred_cmd;	/* &x86_pred_cmd */
	uint64_t	per_cpu_offset;	/* __per_cpu_offset */
#elif defined(__aarch64__)
	int		va52;		/* user space reaches 1 << 48 */
#else
	/* ptrace's resource word: the debug architecture, longest watch */
	int		debug_arch;
	int		max_wp_len;
#endif
} env;

#ifndef __arm__
static int in_range(uint64_t addr, const uint64_t r[2])
{
	return r[0] && r[1] && addr >= r[0] && addr < r[1];
}
#endif

#if defined(__x86_64__)

/* 1 if [first, last] meets [base, base + size), as ranges_overlap() says. */
static int overlaps(uint64_t first, uint64_t last, uint64_t base, uint64_t size)
{
	return first < base + size && last >= base;
}

/* arch/x86/include/asm/pgtable_64_types.h, pgtable_areas.h (64-bit) */
#define X86_CPU_ENTRY_AREA_BASE		0xfffffe0000000000ULL	/* -4UL << P4D_SHIFT */
#define X86_CPU_ENTRY_AREA_MAP_SIZE	(1ULL << 39)		/* P4D_SIZE */
/* __START_KERNEL_map: the kernel image, then modules, then the fixmap. */
#define X86_START_KERNEL_MAP		0xffffffff80000000ULL
/* Documentation/arch/x86/x86_64/mm.rst: the top 2 MB are an unused hole. */
#define X86_TOP_HOLE			0xffffffffffe00000ULL

/*
 * x86_bp_in_entry_path() (arch/x86/kernel/hw_breakpoint.c) for [first,
 * last]: 1, 0, or MODEL_UNKNOWN. It refuses ranges that meet the CPU entry
 * area, x86_pred_cmd, __per_cpu_offset[0..nr_cpu_ids), or, on each
 * possible CPU, that CPU's GDT, TSS, cpu_tlbstate, cpu_dr7, pcpu_hot,
 * x86_spec_ctrl_current or fixed_percpu_data (CONFIG_SMP is set:
 * configs/common.config). Those per-CPU objects live in the per-CPU
 * areas (the direct map or vmalloc space), whose addresses user space
 * cannot know, so a range is known to miss them only where no such area
 * can be:
 *  - below the direct map's lowest possible base, __PAGE_OFFSET_BASE_L4
 *    (L5), which CONFIG_RANDOMIZE_MEMORY only moves up: user space, the
 *    non-canonical hole, the guard hole and the LDT remap;
 *  - from __START_KERNEL_map up (image, modules, fixmap), where only
 *    x86_pred_cmd and __per_cpu_offset are, once /proc/kallsyms gave
 *    their addresses;
 *  - the unused top 2 MB.
 * Elsewhere the answer is MODEL_UNKNOWN unless the range meets a listed
 * object the model knows.
 */
static int x86_entry_overlap(uint64_t first, uint64_t last)
{
	int image_known = env.pred_cmd && env.per_cpu_offset;

	if (overlaps(first, last, X86_CPU_ENTRY_AREA_BASE,
		     X86_CPU_ENTRY_AREA_MAP_SIZE))
		return 1;
	if (env.pred_cmd && overlaps(first, last, env.pred_cmd, 8))
		return 1;
	if (env.per_cpu_offset &&
	    overlaps(first, last, env.per_cpu_offset, 8ULL * env.nr_cpu_ids))
		return 1;
	if (last < env.free_end)
		return 0;
	if (first >= X86_TOP_HOLE)
		return 0;
	if (first >= X86_START_KERNEL_MAP && image_known)
		return 0;
	return MODEL_UNKNOWN;
}

/*
 * within_kprobe_blacklist(addr) for a kernel address: 1, 0 or
 * MODEL_UNKNOWN. Without CONFIG_KPROBES it is the stub in
 * include/linux/kprobes.h, which returns true. With it, entry text
 * (arch_populate_kprobe_blacklist()) and noinstr text
 * (populate_kprobe_blacklist()) are refused; anything else depends on
 * the blacklist's symbols, which the model does not follow.
 */
static int x86_kprobe_blacklisted(uint64_t addr)
{
	if (env.kprobes == 0)
		return 1;
	if (env.kprobes > 0 &&
	    (in_range(addr, env.entry_text) || in_range(addr, env.noinstr_text)))
		return 1;
	return MODEL_UNKNOWN;
}

/*
 * The fewest aligned pieces of 1, 2, 4 or 8 bytes that make up exactly
 * [addr, addr + len), len <= 32, found by trying every choice from the
 * end backwards (not the kernel's greedy walk, which must agree).
 */
static int x86_pieces(uint64_t addr, uint64_t len)
{
	int best[33], p, size;

	best[len] = 0;
	for (p = (int)len - 1; p >= 0; p--) {
		best[p] = 99;
		for (size = 1; size <= 8; size *= 2)
			if (!((addr + p) % size) && p + size <= (int)len &&
			    best[p + size] + 1 < best[p])
				best[p] = best[p + size] + 1;
	}
	return best[0];
}

/*
 * hw_breakpoint_arch_parse() and arch_check_bp_in_kernelspace() of
 * arch/x86/kernel/hw_breakpoint.c, for a bp_type bp_parse() accepted
 * (R, W, RW or X). Returns 0 with *kernel set, or the errno. A check the
 * model cannot decide is assumed to pass, with *guess set: each such
 * check would refuse with -EINVAL.
 */
static int arch_parse(const struct perf_event_attr *attr, int task,
		      int *kernel, int *guess)
{
	uint64_t addr = attr->bp_addr, len = attr->bp_len;
	uint64_t last = addr + len - 1, bytes;
	int r;

	(void)task;	/* x86 takes kernel addresses in task events too */

	/* hw_breakpoint_arch_parse(): no length, or a range that wraps */
	if (!len || last < addr)
		return EINVAL;
	/* hw_breakpoint_arch_parse(): x86_bp_in_entry_path(addr, last) */
	r = x86_entry_overlap(addr, last);
	if (r == MODEL_UNKNOWN)
		*guess = 1;
	else if (r)
		return EINVAL;
	/* hw_breakpoint_arch_parse(): no x86_bp_types[] entry for R alone */
	if (attr->bp_type == HW_BREAKPOINT_R)
		return EINVAL;

	if (attr->bp_type == HW_BREAKPOINT_X) {
		/*
		 * hw_breakpoint_arch_parse(): kernel code only where a kprobe
		 * could go, for addr >= TASK_SIZE_MAX.
		 */
		if (addr >= env.task_size_max) {
			r = x86_kprobe_blacklisted(addr);
			if (r == MODEL_UNKNOWN)
				*guess = 1;
			else if (r)
				return EINVAL;
		}
		/* hw_breakpoint_arch_parse(): bp_len sizeof(long) or 1 */
		if (len != sizeof(long) && len != 1)
			return EINVAL;
		/* X86_BREAKPOINT_LEN_X is LEN_1: x86_bp_bytes() is 1 */
		bytes = 1;
	} else {
		/* x86_bp_parse_len(): 1, 2, 4, 8, aligned to it ... */
		bytes = len;
		if (len == 1 || len == 2 || len == 4 || len == 8) {
			if (addr & (len - 1))
				return EINVAL;
		} else if (!(len & (len - 1)) && !(addr & (len - 1)) &&
			   env.bpext) {
			/* ... an aligned power of two with AMD's masks ... */
		} else if (len > 32) {
			/* ... EOPNOTSUPP for a longer aligned power of two ... */
			return len & (len - 1) || addr & (len - 1) ?
			       EINVAL : EOPNOTSUPP;
		} else if (x86_pieces(addr, len) > 4) {
			/* ... or at most 4 aligned pieces: x86_bp_split() */
			return EINVAL;
		}
	}
	/* arch_check_bp_in_kernelspace(): any byte at or above TASK_SIZE_MAX */
	*kernel = addr >= env.task_size_max ||
		  addr + bytes - 1 >= env.task_size_max;
	return 0;
}

#elif defined(__aarch64__)

/*
 * arch/arm64/include/asm/processor.h and memory.h with
 * CONFIG_ARM64_VA_BITS=52 (the arm64 allnoconfig default, with 4K pages
 * and LPA2): TASK_SIZE_MAX = 1 << VA_BITS, PAGE_OFFSET = -(1 << VA_BITS).
 * Both are compile-time constants, whatever vabits_actual the CPU allows.
 * User space can confirm VA_BITS 52 only when the CPU has LPA2 (it can
 * then map above 1 << 48: TASK_SIZE_64 is 1 << vabits_actual); without
 * that, a VA_BITS=48 kernel would refuse (-EINVAL) ranges reaching
 * [1 << 48, 1 << 52) and addresses in [-(1 << 52), -(1 << 48)), so
 * those are undecidable (env.va52 is 0).
 */
#define ARM64_VA_BITS		52
#define ARM64_PAGE_OFFSET	(0ULL - (1ULL << ARM64_VA_BITS))
#define ARM64_VA48_USER_END	(1ULL << 48)
#define ARM64_VA48_PAGE_OFFSET	(0ULL - (1ULL << 48))

/*
 * hwbp_forbidden_text(addr): 1, 0 or MODEL_UNKNOWN. noinstr and entry
 * text are refused; with CONFIG_KPROBES also within_kprobe_blacklist(),
 * which the model does not follow.
 */
static int arm64_forbidden_text(uint64_t addr)
{
	int known = env.entry_text[0] && env.entry_text[1] &&
		    env.noinstr_text[0] && env.noinstr_text[1];

	if (in_range(addr, env.noinstr_text) || in_range(addr, env.entry_text))
		return 1;
	if (known && env.kprobes == 0)
		return 0;
	return MODEL_UNKNOWN;
}

/*
 * hw_breakpoint_arch_parse() and arch_check_bp_in_kernelspace() of
 * arch/arm64/kernel/hw_breakpoint.c, for a bp_type bp_parse() accepted
 * (R, W, RW or X). This program is a 64-bit one, and CPU-bound events
 * have no task: hwbp_compat() is false. Returns as the x86 one.
 */
static int arch_parse(const struct perf_event_attr *attr, int task,
		      int *kernel, int *guess)
{
	uint64_t addr = attr->bp_addr, len = attr->bp_len, granule, offset;
	int r;

	if (attr->bp_type == HW_BREAKPOINT_X) {
		/* hw_breakpoint_arch_parse(): sizeof(long) is taken as 4 */
		if (len == sizeof(long))
			len = 4;
		/* ... and 4 (ARM_BREAK_GRANULE) is the only length */
		if (len != 4)
			return EINVAL;
		/* ... no instruction starts on an odd address */
		if (addr & 1)
			return EINVAL;
		granule = 4;
	} else {
		/* hw_breakpoint_arch_parse(): a watchpoint is 1 byte to 2 GiB */
		if (len < 1 || len > (1ULL << 31))
			return EINVAL;
		granule = 8;	/* ARM_WATCH_GRANULE */
	}
	/* hw_breakpoint_arch_parse(): a range that wraps */
	if (addr + len - 1 < addr)
		return EINVAL;
	/*
	 * ... an instruction inside one granule; a watchpoint inside one
	 * (BAS) or over one or two MASK blocks, which any range of up to
	 * 2 GiB fits
	 */
	offset = addr & (granule - 1);
	if (offset + len > granule && attr->bp_type == HW_BREAKPOINT_X)
		return EINVAL;
	/* hw_breakpoint_arch_parse(): every byte below TASK_SIZE_MAX: EL0 */
	if (addr + len - 1 < (1ULL << ARM64_VA_BITS)) {
		if (!env.va52 && addr + len - 1 >= ARM64_VA48_USER_END)
			*guess = 1;
		*kernel = 0;
		return 0;
	}
	/* ... else in the kernel half: not in the hole below PAGE_OFFSET */
	if (addr < ARM64_PAGE_OFFSET)
		return EINVAL;
	if (!env.va52 && addr < ARM64_VA48_PAGE_OFFSET)
		*guess = 1;
	/* ... a kernel breakpoint must be CPU-bound (no task) */
	if (task)
		return EINVAL;
	/* ... and an instruction one not where the debug exception runs */
	if (attr->bp_type == HW_BREAKPOINT_X) {
		r = arm64_forbidden_text(addr);
		if (r == MODEL_UNKNOWN)
			*guess = 1;
		else if (r)
			return EINVAL;
	}
	/* arch_check_bp_in_kernelspace(): EL1 */
	*kernel = 1;
	return 0;
}

#elif defined(__arm__)

/* asm/hw_breakpoint.h: debug architectures (mismatch; FSR load/store) */
#define ARM_DEBUG_ARCH_V7_ECP14	3
#define ARM_DEBUG_ARCH_V8	6

/* get_hbp_len(): a BAS mask's length; 0 for a shifted one. */
static unsigned int arm_bas_len(unsigned int bas)
{
	switch (bas) {
	case 0x1:
		return 1;
	case 0x3:
		return 2;
	case 0xf:
		return 4;
	case 0xff:
		return 8;
	}
	return 0;
}

/* arch_check_bp_in_kernelspace(), in 32-bit arithmetic as the kernel's. */
static int arm_in_kernel(uint32_t va, unsigned int bas)
{
	uint32_t last = va + arm_bas_len(bas) - 1;

	return va >= GUEST_ARM_TASK_SIZE && last >= GUEST_ARM_TASK_SIZE;
}

/*
 * hw_breakpoint_arch_parse() and arch_build_bp_info() of
 * arch/arm/kernel/hw_breakpoint.c (upstream's backend, under our core),
 * for a bp_type bp_parse() accepted. @perf_handler: the event has perf's
 * own overflow handler (every perf_event_open() event; ptrace's have
 * theirs), which arm can only step over a hit with a mismatch
 * breakpoint. *kernel is what bp_parse()'s arch_check_bp_in_kernelspace()
 * then says of the aligned address and shifted BAS.
 */
static int arm_parse(const struct perf_event_attr *attr, int task,
		     int perf_handler, int *kernel)
{
	/* hw->address is an unsigned long: the top half of bp_addr is lost */
	uint32_t addr = (uint32_t)attr->bp_addr;
	int exec = attr->bp_type == HW_BREAKPOINT_X;
	unsigned int bas, mask, offset;

	/* arch_build_bp_info(): 1, 2, 4, or 8 for a watchpoint if it can */
	switch (attr->bp_len) {
	case 1:
		bas = 0x1;
		break;
	case 2:
		bas = 0x3;
		break;
	case 4:
		bas = 0xf;
		break;
	case 8:
		if (!exec && env.max_wp_len >= 8) {
			bas = 0xff;
			break;
		}
		return EINVAL;
	default:
		return EINVAL;
	}
	/* ... an instruction is 2 (T32) or 4 bytes */
	if (exec && attr->bp_len != 2 && attr->bp_len != 4)
		return EINVAL;
	/*
	 * hw_breakpoint_arch_parse(): inside the aligned word (doubleword
	 * for 8 bytes): 1 byte anywhere, 2 at offset 0 to 2, others aligned
	 */
	mask = attr->bp_len == 8 ? 7 : 3;
	offset = addr & mask;
	if (offset > 3 || (offset == 3 && attr->bp_len != 1) ||
	    (offset && attr->bp_len > 2))
		return EINVAL;
	addr &= ~mask;
	bas <<= offset;
	if (perf_handler) {
		/*
		 * core_has_mismatch_brps(): v7 debug or later and more than
		 * one BRP (QEMU's cortex-a15 has 6)
		 */
		if (env.debug_arch < ARM_DEBUG_ARCH_V7_ECP14)
			return EINVAL;
		/* ... and no stepping over a hit in the kernel */
		if (arm_in_kernel(addr, bas))
			return EPERM;
		/* ... nor on a CPU with no task */
		if (!task)
			return EINVAL;
		/* ... load or store alone only where the FSR tells them apart */
		if (env.debug_arch < ARM_DEBUG_ARCH_V8 &&
		    (attr->bp_type == HW_BREAKPOINT_R ||
		     attr->bp_type == HW_BREAKPOINT_W))
			return EINVAL;
	}
	*kernel = arm_in_kernel(addr, bas);
	return 0;
}

/* The perf_event_open() case: perf's handler. Returns as the x86 one. */
static int arch_parse(const struct perf_event_attr *attr, int task,
		      int *kernel, int *guess)
{
	(void)guess;	/* arm's checks are all decidable here */
	return arm_parse(attr, task, 1, kernel);
}

#else
#error "guest programs support x86_64, arm64 and 32-bit arm"
#endif

/*
 * The outcome the kernel must give for perf_event_open(attr, pid, cpu,
 * group_fd -1, flags 0) of a breakpoint event: 0 (an fd) or the positive
 * errno. pid is 0 (this thread) or -1 (no task); root means the caller
 * has every capability (CAP_SYS_ADMIN, CAP_PERFMON, CAP_KILL), otherwise
 * none. The checks come in the kernel's order, the first refusal wins.
 * Only the fields random_attr() sets are modelled; the others are 0.
 *
 * Returns MODEL_UNKNOWN when a check the model cannot decide (see
 * x86_entry_overlap(), x86_kprobe_blacklisted(), arm64_forbidden_text())
 * matters; such attrs are not tried. Those checks all refuse with
 * -EINVAL, so when everything after them gives EINVAL too, the answer is
 * EINVAL either way.
 */
static int expected_errno(const struct perf_event_attr *attr, pid_t pid,
			  int cpu, int root)
{
	int task = pid != -1;	/* find_lively_task_by_vpid(0): current */
	int kernel = 0, guess = 0, ret;
	int data = attr->bp_type & HW_BREAKPOINT_RW;

	/* --- perf_event_open() -> perf_copy_attr() --- */
	/* sample_type & ~(PERF_SAMPLE_MAX - 1), PERF_SAMPLE_MAX = 1U << 25 */
	if (attr->sample_type & ~((1ULL << 25) - 1))
		return EINVAL;
	/* remove_on_exec with enable_on_exec (never set here) */
	if (attr->remove_on_exec && attr->enable_on_exec)
		return EINVAL;
	/* sigtrap needs remove_on_exec (random_attr() always sets both) */
	if (attr->sigtrap && !attr->remove_on_exec)
		return EINVAL;

	/* --- perf_event_open() --- */
	/* perf_paranoid_any(): paranoid > 2 and no CAP_SYS_ADMIN */
	if (env.paranoid > 2 && !root)
		return EACCES;
	/*
	 * Kernel counting, or kernel callchains (exclude_callchain_kernel
	 * is 0): perf_allow_kernel(), paranoid > 1 and not perfmon_capable()
	 */
	if ((!attr->exclude_kernel ||
	     (attr->sample_type & PERF_SAMPLE_CALLCHAIN)) &&
	    env.paranoid > 1 && !root)
		return EACCES;
	/* freq is 0: a period with bit 63 set */
	if (attr->sample_period & (1ULL << 63))
		return EINVAL;

	/* --- perf_event_alloc() --- */
	/* (unsigned)cpu >= nr_cpu_ids, unless cpu -1 with a task */
	if ((unsigned int)cpu >= (unsigned int)env.nr_cpu_ids &&
	    (!task || cpu != -1))
		return EINVAL;
	/* sigtrap needs a task to signal */
	if (attr->sigtrap && !task)
		return EINVAL;
	/* has_inherit_and_sample_read() without PERF_SAMPLE_TID */
	if (attr->inherit && (attr->sample_type & PERF_SAMPLE_READ) &&
	    !(attr->sample_type & PERF_SAMPLE_TID))
		return EINVAL;

	/*
	 * --- perf_init_event() -> perf_try_init_event() -> bp_event_init()
	 * (kernel/events/hw_breakpoint.c). The breakpoint PMU has no
	 * capabilities: no PERF_PMU_CAP_NO_EXCLUDE (exclude_user/hv/idle
	 * are accepted as they are), no CAP_NO_INTERRUPT, no
	 * CAP_EXCLUSIVE; precise_ip is not looked at. ---
	 */
	/* has_branch_stack(): PERF_SAMPLE_BRANCH_STACK is bit 11, never set */
	/* neither a task nor a CPU (unreachable: cpu -1 failed above) */
	if (!task && cpu < 0)
		return EINVAL;
	/* bp_parse(): R, W or RW, or X alone */
	if (!attr->bp_type || (attr->bp_type & ~(uint64_t)HW_BREAKPOINT_INVALID) ||
	    ((attr->bp_type & HW_BREAKPOINT_X) && (attr->bp_type & HW_BREAKPOINT_RW)))
		return EINVAL;
	/* bp_parse() -> hw_breakpoint_arch_parse() */
	ret = arch_parse(attr, task, &kernel, &guess);
	if (ret)
		goto out;
	/* bp_parse(): a kernel address cannot be watched in user mode only */
	if (kernel && attr->exclude_kernel) {
		ret = EINVAL;
		goto out;
	}
	/* bp_parse(): kernel addresses need CAP_SYS_ADMIN */
	if (kernel && !root) {
		ret = EPERM;
		goto out;
	}
	/* bp_event_init(): no register of this type on the CPUs */
	if (!(data ? env.data_slots : env.inst_slots)) {
		ret = EOPNOTSUPP;
		goto out;
	}
	/*
	 * reserve_bp_slot(): -ENOSPC only when other breakpoints fill the
	 * registers. Each fd here is closed before the next open and
	 * nothing else holds a breakpoint while this suite runs, so one
	 * breakpoint always fits, pinned, exclusive or inherited alike
	 * (the allocator does not look at those flags).
	 */

	/* --- perf_event_alloc(), after perf_init_event() --- */
	/*
	 * PERF_SAMPLE_CALLCHAIN: get_callchain_buffers() with
	 * sample_max_stack = sysctl_perf_event_max_stack (perf_copy_attr()
	 * fills it in): no -EOVERFLOW. security_perf_event_alloc(): no LSM.
	 */

	/* --- perf_event_open(), the event allocated --- */
	/*
	 * perf_check_permission() for pid 0: __ptrace_may_access() lets a
	 * thread group inspect (and signal, for sigtrap) itself.
	 */
	/* find_get_context(): a CPU event needs perf_allow_cpu() */
	if (!task && env.paranoid > 0 && !root) {
		ret = EACCES;
		goto out;
	}
	/* the CPU of a CPU event must be online */
	if (!task && (cpu >= MAX_CPUS || !env.online[cpu])) {
		ret = ENODEV;
		goto out;
	}
	/*
	 * perf_event_validate_size(): a lone event's sample and read sizes
	 * are far below 64 KiB. exclusive_event_installable(): only for
	 * PMUs with PERF_PMU_CAP_EXCLUSIVE.
	 */
	ret = 0;
out:
	if (guess && ret != EINVAL)
		return MODEL_UNKNOWN;
	return ret;
}

/* === The generator === */

static void random_attr(struct perf_event_attr *attr)
{
	const uint64_t tsm = env.task_size_max;
	const uint64_t addrs[] = {
		(uintptr_t)&var[0], (uintptr_t)&var[1] + 1, (uintptr_t)&var[2] + 3,
		(uintptr_t)&var[3] + 6, (uintptr_t)&var[0] + rnd() % 64,
		0, 8, ~0ULL, ~0ULL - 7,
		0x0000800000000000ULL,		/* first non-canonical (48-bit) */
		0x00007ffffffffff8ULL,		/* last qword below 1 << 47 */
		0xffff800000000000ULL, 0xffffffff81000000ULL,
		0xfffffe0000000000ULL,		/* x86 cpu_entry_area */
		tsm - 8, tsm - 1, tsm,		/* around TASK_SIZE_MAX */
		/*
		 * Random addresses: a user one, and one anywhere in the
		 * lower half (user, or the hole above it). Fully random
		 * ones could land in kernel memory the model cannot see.
		 */
		rnd() % tsm, rnd() >> 1,
		/* Kernel text, from /proc/kallsyms (or &var[0] if unknown). */
		env.entry_text[0] ? env.entry_text[0] : (uintptr_t)&var[0],
		env.noinstr_text[0] ? env.noinstr_text[0] : (uintptr_t)&var[0],
		env.bp_func ? env.bp_func : (uintptr_t)&var[0],
#if defined(__x86_64__)
		/* Entry-path objects in the kernel image: always refused. */
		env.pred_cmd ? env.pred_cmd : (uintptr_t)&var[0],
		env.per_cpu_offset ? env.per_cpu_offset : (uintptr_t)&var[0],
#elif defined(__aarch64__)
		ARM64_PAGE_OFFSET - 8,		/* the hole below PAGE_OFFSET */
#else
		GUEST_ARM_PAGE_OFFSET, GUEST_ARM_TASK_SIZE - 1,
		GUEST_ARM_TASK_SIZE - 2,
		0xffff0000ULL,			/* the vectors page */
		/* bits the kernel's unsigned long drops: a user address */
		(1ULL << 32) + (uintptr_t)&var[0],
#endif
	};
	const uint64_t lens[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 24, 32, 33, 64, rnd(),
		1ULL << (rnd() % 64),		/* x86 address-mask ranges */
	};
	const uint64_t types[] = {
		HW_BREAKPOINT_R, HW_BREAKPOINT_W, HW_BREAKPOINT_RW,
		HW_BREAKPOINT_X, 0, HW_BREAKPOINT_X | HW_BREAKPOINT_W,
		HW_BREAKPOINT_INVALID, rnd() & 0xff, rnd(),
	};
	uint64_t flags = rnd();

	memset(attr, 0, sizeof(*attr));
	attr->type = PERF_TYPE_BREAKPOINT;
	attr->size = sizeof(*attr);
	attr->bp_addr = PICK(addrs);
	attr->bp_len = PICK(lens);
	attr->bp_type = PICK(types);
	attr->disabled = flags & 1;
	attr->inherit = (flags >> 1) & 1;
	attr->pinned = (flags >> 2) & 1;
	attr->exclusive = (flags >> 3) & 1;
	attr->exclude_user = (flags >> 4) & 1;
	attr->exclude_kernel = (flags >> 5) & 1;
	attr->exclude_hv = (flags >> 6) & 1;
	attr->sigtrap = (flags >> 7) & 1 && (flags >> 8) & 1;
	attr->remove_on_exec = attr->sigtrap || ((flags >> 9) & 1);
	attr->precise_ip = (flags >> 10) & 3;
	attr->sample_period = (flags >> 12) & 7;
	attr->sample_type = (flags >> 16) & 0x3ff;
	attr->watermark = (flags >> 26) & 1;
	attr->wakeup_events = (flags >> 27) & 3;
	attr->exclude_idle = (flags >> 29) & 1;
	attr->sig_data = rnd();
}

/* pid 0 or -1; cpu -1, a possible CPU, or nr_cpu_ids (invalid). */
static void random_target(pid_t *pid, int *cpu)
{
	*cpu = rnd() % 4 ? -1 : (int)(rnd() % (env.nr_cpu_ids + 2)) - 1;
	/* pid -1 with cpu -1 too, now and then: refused (EINVAL) */
	*pid = rnd() % 2 && (*cpu >= 0 || rnd() % 8 == 0) ? -1 : 0;
}

static const char *outcome(int err, char *buf, size_t size)
{
	static const struct { int err; const char *name; } names[] = {
		{ 0, "fd" }, { EINVAL, "EINVAL" }, { EPERM, "EPERM" },
		{ EACCES, "EACCES" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ENOSPC, "ENOSPC" }, { ENODEV, "ENODEV" }, { ENOENT, "ENOENT" },
		{ E2BIG, "E2BIG" }, { EBUSY, "EBUSY" }, { ENOMEM, "ENOMEM" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].err == err)
			return names[i].name;
	}
	snprintf(buf, size, "errno %d", err);
	return buf;
}

/* The outcomes the model predicts, for the summary. */
static const int tally_errs[] = { 0, EINVAL, EPERM, EACCES, EOPNOTSUPP, ENODEV };
#define NR_TALLY	(sizeof(tally_errs) / sizeof(tally_errs[0]))

struct fuzz_result {
	long	attrs, opened, predicted, mismatches, rerolls;
	long	tally[NR_TALLY + 1];	/* last: any other */
};

static void report_mismatch(const struct perf_event_attr *attr, pid_t pid,
			    int cpu, int expect, int got)
{
	char b1[24], b2[24];

	tap_diag("mismatch: bp_type %#llx bp_len %#llx bp_addr %#llx "
		 "disabled %u inherit %u pinned %u exclusive %u "
		 "exclude_user %u exclude_kernel %u exclude_hv %u exclude_idle %u "
		 "sigtrap %u remove_on_exec %u precise_ip %u "
		 "sample_period %llu sample_type %#llx watermark %u wakeup_events %u, "
		 "pid %d cpu %d: expected %s, got %s",
		 (unsigned long long)attr->bp_type,
		 (unsigned long long)attr->bp_len,
		 (unsigned long long)attr->bp_addr,
		 attr->disabled, attr->inherit, attr->pinned, attr->exclusive,
		 attr->exclude_user, attr->exclude_kernel, attr->exclude_hv,
		 attr->exclude_idle, attr->sigtrap, attr->remove_on_exec,
		 attr->precise_ip, (unsigned long long)attr->sample_period,
		 (unsigned long long)attr->sample_type, attr->watermark,
		 attr->wakeup_events, pid, cpu,
		 outcome(expect, b1, sizeof(b1)), outcome(got, b2, sizeof(b2)));
}

/* Opens iterations random attrs and checks each against the model. */
static void fuzz_perf(long iterations, int root, struct fuzz_result *r)
{
	struct perf_event_attr attr;
	long i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < iterations; i++) {
		int cpu, fd, expect, got;
		pid_t pid;
		size_t t;

		/*
		 * The generator's one restriction beyond its lists: a
		 * combination whose outcome the model cannot know is drawn
		 * again (rare; counted).
		 */
		for (;;) {
			random_target(&pid, &cpu);
			random_attr(&attr);
			expect = expected_errno(&attr, pid, cpu, root);
			if (expect != MODEL_UNKNOWN)
				break;
			r->rerolls++;
		}

		/*
		 * A sigtrap event is opened disabled (validation does not
		 * look at it): a range watchpoint (arm64: up to 2 GiB) may
		 * cover the walk's own data, or the stack its signal frame
		 * would be written to, and fire before it is closed.
		 */
		if (attr.sigtrap)
			attr.disabled = 1;
		fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, 0);
		got = fd >= 0 ? 0 : errno;
		if (fd >= 0) {
			r->opened++;
			if (!attr.sigtrap)
				var[rnd() % 8] = i;	/* maybe hit it */
			close(fd);
		}
		r->attrs++;
		if (!expect)
			r->predicted++;
		for (t = 0; t < NR_TALLY && tally_errs[t] != expect; t++)
			;
		r->tally[t]++;
		if (got != expect && r->mismatches++ < 5)
			report_mismatch(&attr, pid, cpu, expect, got);
	}
}

static void print_result(const char *who, const struct fuzz_result *r)
{
	tap_diag("%s: model predicts %ld fd, %ld EINVAL, %ld EPERM, %ld EACCES, "
		 "%ld EOPNOTSUPP, %ld ENODEV; %ld redrawn as unpredictable",
		 who, r->tally[0], r->tally[1], r->tally[2], r->tally[3],
		 r->tally[4], r->tally[5], r->rerolls);
}

/* === Reading the environment the model needs === */

/* Kernel symbols, as root (CAP_SYSLOG shows the addresses). */
static void read_kallsyms(void)
{
	static const struct { const char *name; uint64_t *addr; } want[] = {
		{ "__entry_text_start", &env.entry_text[0] },
		{ "__entry_text_end", &env.entry_text[1] },
		{ "__noinstr_text_start", &env.noinstr_text[0] },
		{ "__noinstr_text_end", &env.noinstr_text[1] },
		{ "hw_breakpoint_is_used", &env.bp_func },
#if defined(__x86_64__)
		{ "x86_pred_cmd", &env.pred_cmd },
		{ "__per_cpu_offset", &env.per_cpu_offset },
#endif
	};
	FILE *f = fopen("/proc/kallsyms", "r");
	int any = 0, kprobes = 0;
	char line[512], name[256], type;
	unsigned long long addr;
	size_t i;

	env.kprobes = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    strchr(line, '['))		/* a module's symbol */
			continue;
		if (addr)
			any = 1;
		if (!strcmp(name, "register_kprobe"))
			kprobes = 1;
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			if (!*want[i].addr && !strcmp(name, want[i].name))
				*want[i].addr = addr;
		}
	}
	fclose(f);
	/* Without addresses (kptr_restrict) no symbol is of use. */
	if (!any) {
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			*want[i].addr = 0;
		return;
	}
	/* kernel/kprobes.c defines register_kprobe() iff CONFIG_KPROBES */
	env.kprobes = kprobes;
}

#if defined(__x86_64__)
/* boot_cpu_has(X86_FEATURE_BPEXT): /proc/cpuinfo's "bpext", else CPUID. */
static int read_bpext(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	unsigned int a, b, c, d;
	char *line = NULL, *tok, *save;
	size_t size = 0;
	int found = -1;

	if (f) {
		while (found < 0 && getline(&line, &size, f) > 0) {
			if (strncmp(line, "flags", 5))
				continue;
			found = 0;
			for (tok = strtok_r(line, " \t\n", &save); tok;
			     tok = strtok_r(NULL, " \t\n", &save)) {
				if (!strcmp(tok, "bpext"))
					found = 1;
			}
		}
		free(line);
		fclose(f);
	}
	if (found >= 0)
		return found;
	if (!__get_cpuid(0x80000001, &a, &b, &c, &d))
		return 0;
	return (c >> 26) & 1;	/* CPUID 8000_0001 ECX[26]: DR address masks */
}
#endif

#if defined(__arm__)
/*
 * ptrace_get_hbp_resource_info(): the debug architecture, the longest
 * watchpoint, hw_breakpoint_slots() of each type, a byte each; -1 if
 * ptrace gave none.
 */
static int arm_resources(void)
{
	pid_t pid = guest_spawn_traced(guest_idle);
	uint32_t info;
	int ret = -1;

	if (pid < 0)
		return -1;
	if (!ptrace(PTRACE_GETHBPREGS, pid, (void *)0L, &info)) {
		env.inst_slots = GUEST_HBP_INFO_BRPS(info);
		env.data_slots = GUEST_HBP_INFO_WRPS(info);
		env.max_wp_len = GUEST_HBP_INFO_WP_LEN(info);
		env.debug_arch = GUEST_HBP_INFO_ARCH(info);
		ret = 0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return ret;
}
#endif

#if defined(__aarch64__)
/* hw_breakpoint_slots(): the count ptrace reports in dbg_info. */
static int arm64_slots(int set)
{
	struct user_hwdebug_state st;
	struct iovec iov = { .iov_base = &st, .iov_len = sizeof(st) };
	pid_t pid = guest_spawn_traced(guest_idle);
	int n = -1;

	if (pid < 0)
		return -1;
	if (!ptrace(PTRACE_GETREGSET, pid, (void *)(long)set, &iov))
		n = GUEST_DBG_INFO_SLOTS(st.dbg_info);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return n;
}
#endif

#ifndef __arm__
/* Can user space map memory at @addr? (TASK_SIZE reaches it) */
static int can_map_at(uint64_t addr)
{
	void *p = mmap((void *)(uintptr_t)addr, 4096, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	munmap(p, 4096);
	return p == (void *)(uintptr_t)addr;
}
#endif

static void read_env(void)
{
	int last;

	/*
	 * sysctl_perf_event_paranoid (kernel/events/core.c) is 2 unless
	 * CONFIG_SECURITY_PERF_EVENTS_RESTRICT (3), which our configs leave
	 * unset; the file says what it is now.
	 */
	if (guest_read_int("/proc/sys/kernel/perf_event_paranoid", &env.paranoid))
		env.paranoid = 2;

	last = guest_cpu_list("/sys/devices/system/cpu/possible", NULL, MAX_CPUS);
	if (guest_cpu_list("/sys/devices/system/cpu/online", env.online, MAX_CPUS) < 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN), c;

		for (c = 0; c < n && c < MAX_CPUS; c++)
			env.online[c] = 1;
		if (last < 0)
			last = n - 1;
	}
	env.nr_cpu_ids = last + 1;

	read_kallsyms();

#if defined(__x86_64__)
	/*
	 * TASK_SIZE_MAX = (1 << __VIRTUAL_MASK_SHIFT) - PAGE_SIZE, the shift
	 * 56 with 5-level paging (pgtable_l5_enabled()), else 47: user space
	 * reaches 1 << 47 only with 5-level paging.
	 */
	env.la57 = can_map_at(1ULL << 47);
	env.task_size_max = (1ULL << (env.la57 ? 56 : 47)) - 4096;
	/* __PAGE_OFFSET_BASE_L5 / _L4 (arch/x86/include/asm/page_64_types.h) */
	env.free_end = env.la57 ? 0xff11000000000000ULL : 0xffff888000000000ULL;
	env.bpext = read_bpext();
	/* hw_breakpoint_slots(type) is HBP_NUM, shared by both types */
	env.inst_slots = env.data_slots = 4;
	tap_diag("model: paranoid %d, nr_cpu_ids %d, TASK_SIZE_MAX %#llx (%d-level paging), "
		 "bpext %d, kprobes %d, x86_pred_cmd %#llx, __per_cpu_offset %#llx",
		 env.paranoid, env.nr_cpu_ids,
		 (unsigned long long)env.task_size_max, env.la57 ? 5 : 4,
		 env.bpext, env.kprobes, (unsigned long long)env.pred_cmd,
		 (unsigned long long)env.per_cpu_offset);
#elif defined(__arm__)
	env.task_size_max = GUEST_ARM_TASK_SIZE;
	if (arm_resources())
		tap_bail("ptrace gave no resource word: no model of this CPU");
	/* The kernel image lies above PAGE_OFFSET, else the split differs. */
	if (env.bp_func && env.bp_func < GUEST_ARM_PAGE_OFFSET)
		tap_bail("hw_breakpoint_is_used at %#llx, below the PAGE_OFFSET the model assumes (%#llx)",
			 (unsigned long long)env.bp_func,
			 (unsigned long long)GUEST_ARM_PAGE_OFFSET);
	tap_diag("model: paranoid %d, nr_cpu_ids %d, TASK_SIZE %#llx, "
		 "debug architecture %d, watchpoints up to %d bytes, "
		 "%d breakpoint and %d watchpoint registers",
		 env.paranoid, env.nr_cpu_ids,
		 (unsigned long long)env.task_size_max, env.debug_arch,
		 env.max_wp_len, env.inst_slots, env.data_slots);
#else
	env.task_size_max = 1ULL << ARM64_VA_BITS;
	env.va52 = can_map_at(1ULL << 48);
	env.inst_slots = arm64_slots(NT_ARM_HW_BREAK);
	env.data_slots = arm64_slots(NT_ARM_HW_WATCH);
	if (env.inst_slots < 0 || env.data_slots < 0) {
		tap_diag("model: ptrace gave no register counts; assuming some of each");
		env.inst_slots = env.inst_slots < 0 ? 1 : env.inst_slots;
		env.data_slots = env.data_slots < 0 ? 1 : env.data_slots;
	}
	tap_diag("model: paranoid %d, nr_cpu_ids %d, TASK_SIZE_MAX %#llx, "
		 "PAGE_OFFSET %#llx, 52-bit user VA %d, %d breakpoint and %d watchpoint "
		 "registers, kprobes %d",
		 env.paranoid, env.nr_cpu_ids,
		 (unsigned long long)env.task_size_max,
		 (unsigned long long)ARM64_PAGE_OFFSET, env.va52,
		 env.inst_slots, env.data_slots, env.kprobes);
#endif
	tap_diag("model: entry text %#llx-%#llx, noinstr text %#llx-%#llx, "
		 "hw_breakpoint_is_used %#llx",
		 (unsigned long long)env.entry_text[0],
		 (unsigned long long)env.entry_text[1],
		 (unsigned long long)env.noinstr_text[0],
		 (unsigned long long)env.noinstr_text[1],
		 (unsigned long long)env.bp_func);
}

/* === ptrace === */

/*
 * The model of a tracee's ptrace breakpoints: what the arch's ptrace code
 * (arch/x86/kernel/ptrace.c, arch/arm64/kernel/ptrace.c) holds for each
 * register, each change going through modify_user_hw_breakpoint() and so
 * through arch_parse() above. A write's outcome is then exact: 0 or the
 * errno, and the state it leaves.
 */
struct ptrace_bp {
	int		exists;		/* an event was registered */
	uint64_t	addr;
	uint64_t	len;
	unsigned int	type;
	int		disabled;
};

#ifndef __x86_64__
/* DBGBCR/DBGWCR as ptrace takes them (arm64 and arm alike) */
#define CTRL_E(c)		((c) & GUEST_CTRL_ENABLE)
#define CTRL_LSC(c)		(((c) >> GUEST_CTRL_LSC_SHIFT) & 3)
#define CTRL_BAS(c)		(((c) >> GUEST_CTRL_BAS_SHIFT) & 0xff)
#endif

/* A task breakpoint as ptrace asks for it (exclude_kernel): 0 or errno. */
static int ptrace_parse(uint64_t addr, uint64_t len, unsigned int type)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT, .size = sizeof(attr),
		.bp_addr = addr, .bp_len = len, .bp_type = type,
		.exclude_kernel = 1,
	};
	int kernel = 0, guess = 0, err;

#if defined(__aarch64__)
	/*
	 * hw_breakpoint_arch_parse(): ptrace's own watchpoints stay BAS-only,
	 * inside one 8-byte granule (no MASK ranges)
	 */
	if (type != HW_BREAKPOINT_X && (addr & 7) + len > 8)
		return EINVAL;
#endif
#if defined(__arm__)
	/* ptrace's own overflow handler */
	(void)guess;
	err = arm_parse(&attr, 1, 0, &kernel);
#else
	err = arch_parse(&attr, 1, &kernel, &guess);
#endif
	if (err)
		return err;
	return kernel ? EINVAL : 0;	/* bp_parse(): exclude_kernel */
}

#if defined(__x86_64__)

/* arch/x86/include/asm/hw_breakpoint.h, uapi/asm/debugreg.h */
#define X86_LEN_TAG		0x40
#define X86_TYPE_TAG		0x80
#define DR7_FIELD(v, i)		(((v) >> (16 + 4 * (i))) & 0xf)
#define DR7_ENABLED(v, i)	(((v) >> (2 * (i))) & 3)

/*
 * arch_bp_generic_fields(): a DR7 field's length and type as perf's, or
 * EINVAL (the I/O type; an execute length other than 1).
 */
static int x86_generic(unsigned int field, uint64_t *len, unsigned int *type)
{
	static const uint64_t lens[4] = { 1, 2, 8, 4 };

	switch (field & 3) {
	case 0:
		if (field & 0xc)
			return EINVAL;
		*type = HW_BREAKPOINT_X;
		*len = sizeof(long);
		return 0;
	case 1:
		*type = HW_BREAKPOINT_W;
		break;
	case 3:
		*type = HW_BREAKPOINT_RW;
		break;
	default:
		return EINVAL;
	}
	*len = lens[(field >> 2) & 3];
	return 0;
}

/* ptrace_get_dr7(): the enabled breakpoints' fields, global enable bits. */
static uint64_t x86_model_dr7(const struct ptrace_bp *bps)
{
	uint64_t dr7 = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int len, rw;

		if (!bps[i].exists || bps[i].disabled)
			continue;
		len = bps[i].len == 1 || bps[i].type == HW_BREAKPOINT_X ? 0 :
		      bps[i].len == 2 ? 1 : bps[i].len == 8 ? 2 : 3;
		rw = bps[i].type == HW_BREAKPOINT_X ? 0 :
		     bps[i].type == HW_BREAKPOINT_W ? 1 : 3;
		dr7 |= (uint64_t)(len << 2 | rw) << (16 + 4 * i);
		dr7 |= 2ULL << (2 * i);
	}
	return dr7;
}

/* One pass of ptrace_write_dr7() over the slots: 0 or the first errno. */
static int x86_dr7_pass(struct ptrace_bp *bps, uint64_t dr7)
{
	int i, err;

	for (i = 0; i < 4; i++) {
		int disabled = !DR7_ENABLED(dr7, i);
		struct ptrace_bp next = bps[i];

		if (!next.exists && disabled)
			continue;
		err = x86_generic(DR7_FIELD(dr7, i), &next.len, &next.type);
		if (err)
			return err;
		if (!next.exists)
			next.addr = 0;
		next.disabled = disabled;
		err = ptrace_parse(next.addr, next.len, next.type);
		if (err)
			return err;
		next.exists = 1;
		bps[i] = next;
	}
	return 0;
}

/* PTRACE_POKEUSER of debug register @reg: the errno it must give. */
static int x86_model_poke(struct ptrace_bp *bps, int reg, uint64_t val)
{
	struct ptrace_bp next = bps[reg < 4 ? reg : 0];
	uint64_t old;
	int err;

	if (reg == 6)
		return 0;
	if (reg == 7) {
		old = x86_model_dr7(bps);
		err = x86_dr7_pass(bps, val);
		/* Failed: the old value is put back over every slot. */
		if (err && x86_dr7_pass(bps, old))
			return -1;	/* the kernel WARNs: not modelled */
		return err;
	}
	if (reg > 3)
		return EIO;
	if (!next.exists) {
		/* A stub: disabled, one byte, write. */
		next = (struct ptrace_bp){ .exists = 1, .len = 1,
					   .type = HW_BREAKPOINT_W,
					   .disabled = 1 };
	}
	next.addr = val;
	err = ptrace_parse(next.addr, next.len, next.type);
	if (!err)
		bps[reg] = next;
	return err;
}

#elif defined(__aarch64__)

/* set_addr or set_ctrl's lookup: create the register's event if none. */
static int arm64_model_get(struct ptrace_bp *bps, int idx, int slots,
			   int watch)
{
	int i, held = 0;

	if (bps[idx].exists)
		return 0;
	for (i = 0; i < 16; i++)
		held += bps[i].exists;
	/* Disabled, it still takes a register: none left. */
	if (held >= slots)
		return ENOSPC;
	bps[idx] = (struct ptrace_bp){
		.exists = 1, .len = 4, .disabled = 1,
		.type = watch ? HW_BREAKPOINT_RW : HW_BREAKPOINT_X,
	};
	return 0;
}

/* ptrace_hbp_set_ctrl(): 0 or the errno. */
static int arm64_model_ctrl(struct ptrace_bp *bp, uint32_t ctrl, int watch)
{
	static const unsigned int types[4] = {
		HW_BREAKPOINT_X, HW_BREAKPOINT_R, HW_BREAKPOINT_W,
		HW_BREAKPOINT_RW,
	};
	struct ptrace_bp next = *bp;
	unsigned int bas = CTRL_BAS(ctrl), first = 0, type;
	int err;

	next.disabled = !CTRL_E(ctrl);
	if (CTRL_E(ctrl)) {
		/* arch_bp_generic_fields(): BAS one run of set bits */
		if (!bas)
			return EINVAL;
		while (!(bas & 1)) {
			bas >>= 1;
			first++;
		}
		if (bas & (bas + 1))
			return EINVAL;
		type = types[CTRL_LSC(ctrl)];
		/* ptrace_hbp_fill_attr_ctrl(): the type fits the regset */
		if (watch ? (type & HW_BREAKPOINT_RW) != type :
			    type != HW_BREAKPOINT_X)
			return EINVAL;
		next.type = type;
		next.len = __builtin_popcount(bas);
		next.addr += first;
	}
	err = ptrace_parse(next.addr, next.len, next.type);
	if (!err)
		*bp = next;
	return err;
}

/*
 * PTRACE_SETREGSET of NT_ARM_HW_WATCH (@watch) or NT_ARM_HW_BREAK with
 * @len bytes of @st: hw_break_set() after ptrace_regset()'s checks.
 */
static int arm64_model_set(struct ptrace_bp *bps, int watch,
			   const struct user_hwdebug_state *st, size_t len)
{
	int slots = watch ? env.data_slots : env.inst_slots;
	size_t count, off = 8, idx;
	int err;

	if (len % 4)
		return EINVAL;		/* not whole u32s */
	count = len < sizeof(*st) ? len : sizeof(*st);
	count -= count < 8 ? count : 8;	/* dbg_info and pad */
	for (idx = 0; count && off < sizeof(*st); idx++) {
		if (count < 8)
			return EINVAL;
		err = arm64_model_get(bps, idx, slots, watch);
		if (!err) {
			struct ptrace_bp next = bps[idx];

			next.addr = st->dbg_regs[idx].addr;
			err = ptrace_parse(next.addr, next.len, next.type);
			if (!err)
				bps[idx] = next;
		}
		if (err)
			return err;
		count -= 8;
		if (!count)
			break;
		err = arm64_model_ctrl(&bps[idx], st->dbg_regs[idx].ctrl,
				       watch);
		if (err)
			return err;
		count -= 4;
		count -= count < 4 ? count : 4;	/* pad */
		off += 16;
	}
	return 0;
}

#else

/*
 * asm/hw_breakpoint.h: ptrace numbers the two kinds' registers in one
 * array, breakpoints first.
 */
#define ARM_MAX_BRP		16
#define ARM_MAX_HBP_SLOTS	32

/*
 * ptrace_hbp_num_to_idx(): register numbers 1 and 2 are breakpoint 0's,
 * -1 and -2 watchpoint 0's (index 16). Numbers past the breakpoints
 * (33 and up) reach the watchpoints' indices too, with the breakpoints'
 * implied type: the model follows them, the kernel must too.
 */
static int arm_num_to_idx(long num)
{
	if (num < 0)
		num = (ARM_MAX_BRP << 1) - num;
	return (num - 1) >> 1;
}

/* Registers of the kind of @type the tracee's events hold, disabled too. */
static int arm_held(const struct ptrace_bp *bps, unsigned int type)
{
	int i, held = 0;

	for (i = 0; i < ARM_MAX_HBP_SLOTS; i++)
		held += bps[i].exists &&
			(bps[i].type == HW_BREAKPOINT_X) == (type == HW_BREAKPOINT_X);
	return held;
}

static int arm_slots(unsigned int type)
{
	return type == HW_BREAKPOINT_X ? env.inst_slots : env.data_slots;
}

/* PTRACE_SETHBPREGS of register @num to @val: ptrace_sethbpregs(). */
static int arm_model_set(struct ptrace_bp *bps, long num, uint32_t val)
{
	static const unsigned int types[4] = {
		HW_BREAKPOINT_X, HW_BREAKPOINT_R, HW_BREAKPOINT_W,
		HW_BREAKPOINT_RW,
	};
	unsigned int implied = num < 0 ? HW_BREAKPOINT_RW : HW_BREAKPOINT_X;
	struct ptrace_bp next;
	int idx, err;

	/* the resource word: read-only, the write a no-op */
	if (!num)
		return 0;
	idx = arm_num_to_idx(num);
	if (idx < 0 || idx >= ARM_MAX_HBP_SLOTS)
		return EINVAL;
	/* ptrace_hbp_create(): at 0, 4 bytes, disabled, a register held */
	if (!bps[idx].exists) {
		if (arm_held(bps, implied) >= arm_slots(implied))
			return ENOSPC;
		bps[idx] = (struct ptrace_bp){
			.exists = 1, .len = 4, .type = implied, .disabled = 1,
		};
	}
	next = bps[idx];
	if (num & 1) {
		next.addr = val;
	} else {
		/* arch_bp_generic_fields(): BAS one of the four lengths */
		next.len = arm_bas_len(CTRL_BAS(val));
		if (!next.len)
			return EINVAL;
		next.type = types[CTRL_LSC(val)];
		/* ... of a type the register number implies */
		if ((next.type & implied) != next.type)
			return EINVAL;
		next.disabled = !CTRL_E(val);
	}
	/* modify_user_hw_breakpoint(): parsed first, then the slot moves */
	err = ptrace_parse(next.addr, next.len, next.type);
	if (err)
		return err;
	if ((next.type == HW_BREAKPOINT_X) != (bps[idx].type == HW_BREAKPOINT_X) &&
	    arm_held(bps, next.type) >= arm_slots(next.type))
		return ENOSPC;
	bps[idx] = next;
	return 0;
}

#endif

/*
 * Random debug-register writes on a stopped tracee, each one's errno
 * predicted by the model of its registers; the model's state follows
 * every write, so a kernel that took a write it should refuse (or kept
 * part of one) disagrees at once or soon after.
 */
static long fuzz_ptrace(long iterations, long *undecided)
{
	pid_t pid = guest_spawn_traced(guest_idle);
#if defined(__x86_64__)
	struct ptrace_bp bps[4];
#elif defined(__arm__)
	struct ptrace_bp bps[ARM_MAX_HBP_SLOTS];
#else
	struct ptrace_bp bps[2][16];
#endif
	long bad = 0, i, tally[32] = { 0 };

	if (pid < 0)
		return 1;
	memset(bps, 0, sizeof(bps));
	for (i = 0; i < iterations; i++) {
		long ret;
		int want;
#if defined(__x86_64__)
		static const int regs[] = { 0, 1, 2, 3, 7, 7, 7, 6 };
		const uint64_t vals[] = {
			rnd(), rnd() & 0xffff00ff, (uintptr_t)&var[rnd() % 8],
			0xffffffff81000000ULL, rnd() & 0xff, 0,
		};
		int reg = regs[rnd() % 8];
		uint64_t val = PICK(vals);

		want = x86_model_poke(bps, reg, val);
		ret = guest_poke_dr(pid, reg, val);
#elif defined(__arm__)
		/* Mostly the registers there are, any number up to 34 too. */
		int regs = 2 * (rnd() % 2 ? env.inst_slots : env.data_slots) + 1;
		long num = rnd() % 4 ? (long)(rnd() % regs) : (long)(rnd() % 69) - 34;
		/* Half plausible: enabled, user, a BAS of a length. */
		static const uint64_t bas[] = { 0x1, 0x3, 0xf, 0xff, 0x6, 0xc, 0xf0, 0 };
		const uint64_t addrs[] = {
			(uintptr_t)&var[rnd() % 8] + rnd() % 8, rnd(), 0,
			GUEST_ARM_TASK_SIZE - 4, GUEST_ARM_PAGE_OFFSET,
		};
		uint32_t val;

		if (rnd() % 2 && num > 0 && num <= regs)
			num = -num;		/* a watchpoint's */
		if (num & 1)
			val = PICK(addrs);
		else
			val = rnd() % 2 ? rnd() :
			      GUEST_CTRL_ENABLE | GUEST_CTRL_PRIV_USER |
			      (rnd() % 4) << GUEST_CTRL_LSC_SHIFT |
			      PICK(bas) << GUEST_CTRL_BAS_SHIFT;
		want = arm_model_set(bps, num, val);
		ret = ptrace(PTRACE_SETHBPREGS, pid, (void *)num, &val);
#else
		struct user_hwdebug_state st;
		struct iovec iov = { .iov_base = &st };
		int r, watch;

		/* Half plausible: enabled, a BAS run, the regset's type. */
		static const uint64_t bas[] = { 0x1, 0x3, 0xf, 0xff, 0xf0, 0x6, 0x5 };

		memset(&st, 0, sizeof(st));
		watch = rnd() % 2;
		for (r = 0; r < 16; r++) {
			st.dbg_regs[r].addr = rnd() % 2 ? (uintptr_t)&var[rnd() % 8] +
					      rnd() % 8 : rnd();
			st.dbg_regs[r].ctrl = rnd() % 2 ? rnd() :
					      1 | (watch ? 1 + rnd() % 3 : 0) << 3 |
					      PICK(bas) << 5;
		}
		/* Mostly whole registers (often few), some ctrl-less; or any. */
		r = rnd() % 2 ? rnd() % 4 : rnd() % 17;
		iov.iov_len = rnd() % 4 ? 8 + 16 * r - 4 * (rnd() % 2) :
			      rnd() % (sizeof(st) + 1);
		want = arm64_model_set(bps[watch], watch, &st, iov.iov_len);
		ret = ptrace(PTRACE_SETREGSET, pid,
			     (void *)(long)(watch ? NT_ARM_HW_WATCH : NT_ARM_HW_BREAK),
			     &iov);
#endif
		if (want < 0) {
			(*undecided)++;
			break;
		}
		tally[want < 32 ? want : 0]++;
		if ((ret ? errno : 0) != want) {
			if (bad++ < 5)
				tap_diag("ptrace write %ld: errno %d, model %d",
					 i, ret ? errno : 0, want);
			break;	/* the model's state is no longer the kernel's */
		}
	}
	tap_diag("ptrace: %ld writes taken, %ld EINVAL, %ld ENOSPC, %ld EIO",
		 tally[0], tally[EINVAL], tally[ENOSPC], tally[EIO]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261129;
	long iterations = argc > 2 ? atol(argv[2]) : 100000;
	struct fuzz_result res, child;
	int status, fds[2], got = 0;
	long bad, undecided = 0;
	pid_t pid;

	rng_state = seed | 1;
	tap_diag("seed %llu, %ld attrs as root and %ld as uid 65534",
		 (unsigned long long)seed, iterations / 2, iterations / 2);
	read_env();

	/* This part runs as root: every capability (see expected_errno()). */
	fuzz_perf(iterations / 2, geteuid() == 0, &res);
	print_result("root", &res);
	tap_ok(res.mismatches == 0 && res.opened == res.predicted,
	       "root: %ld attrs, %ld opened, model predicts %ld, %ld mismatches",
	       res.attrs, res.opened, res.predicted, res.mismatches);

	memset(&child, 0, sizeof(child));
	if (pipe(fds))
		tap_bail("pipe: errno %d", errno);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		rng_state = (seed * 31) | 1;
		if (setgid(65534) || setuid(65534))
			_exit(2);
		fuzz_perf(iterations / 2, 0, &res);
		print_result("uid 65534", &res);
		if (write(fds[1], &res, sizeof(res)) != sizeof(res))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	if (pid > 0)
		got = read(fds[0], &child, sizeof(child)) == sizeof(child);
	close(fds[0]);
	status = -1;
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_ok(got && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       child.mismatches == 0 && child.opened == child.predicted,
	       "uid 65534: %ld attrs, %ld opened, model predicts %ld, %ld mismatches (status %#x)",
	       child.attrs, child.opened, child.predicted, child.mismatches,
	       status);

	bad = fuzz_ptrace(iterations / 10, &undecided);
	tap_ok(bad == 0 && !undecided,
	       "ptrace: %ld random debug-register writes, each the model's errno (%ld mismatches%s)",
	       iterations / 10, bad, undecided ? ", stopped where the model cannot say" : "");

	guest_check_all_free();
	return tap_done();
}
