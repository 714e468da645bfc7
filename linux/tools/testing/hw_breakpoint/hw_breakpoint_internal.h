/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user-space stand-in for kernel/events/hw_breakpoint_internal.h: just
 * enough of the kernel for the real kernel/events/hw_breakpoint.c to build
 * and run as a program. It has the same include guard, so the kernel's
 * header, included by the allocator, adds nothing once this one is in.
 *
 * What the allocator's correctness depends on is real here: the per-CPU
 * tables are one copy per simulated CPU, the task table is a working hash
 * table keyed like the kernel's rhltable, and the locks record who holds
 * them so that lockdep_assert_held() and "may sleep" are checked. What it
 * calls outside the allocator (the arch's parse, perf's core, the die
 * chain) is provided by the test, hw_breakpoint.c in this directory.
 */
#ifndef _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H
#define _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/perf_event.h>		/* UAPI: struct perf_event_attr */

/* === Basics === */

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#define __init
#define __ro_after_init
#define __percpu
#define __force
#define EXPORT_SYMBOL_GPL(sym)
#define late_initcall(fn)
#define pr_info(fmt, ...)	test_log(fmt, ##__VA_ARGS__)
#define IS_ENABLED(opt)		opt##_ENABLED
#define CONFIG_KUNIT_ENABLED	0
#ifdef TEST_MIXED_REGS
#define CONFIG_HAVE_MIXED_BREAKPOINTS_REGS_ENABLED	1
#else
#define CONFIG_HAVE_MIXED_BREAKPOINTS_REGS_ENABLED	0
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define CAP_SYS_ADMIN		21

/* A WARN is a test failure: the allocator promises never to warn. */
void test_warn(const char *cond, const char *file, int line);
#define WARN_ON_ONCE(cond) ({						\
	bool __c = !!(cond);						\
	if (__c)							\
		test_warn(#cond, __FILE__, __LINE__);			\
	__c;								\
})

/* Every allocation goes through the test, which can make it fail. */
#define GFP_KERNEL		0
#define ZERO_SIZE_PTR		((void *)16)
void *test_alloc(size_t n, size_t size);
void test_free(const void *p);
#define kcalloc(n, size, gfp)	test_alloc(n, size)
#define kfree(p)		test_free(p)

#define MAX_ERRNO		4095
#define ERR_PTR(err)		((void *)(long)(err))
#define PTR_ERR(ptr)		((long)(ptr))
#define IS_ERR(ptr)		((unsigned long)(ptr) >= (unsigned long)-MAX_ERRNO)
#define PTR_ERR_OR_ZERO(ptr)	(IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0)

/* One thread of execution: KCSAN's and RCU's markers have no work. */
#define ASSERT_EXCLUSIVE_WRITER(var)	((void)0)
#define data_race(expr)			(expr)
#define READ_ONCE(x)			(*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)		(*(volatile __typeof__(x) *)&(x) = (val))
#define rcu_read_lock()			((void)0)
#define rcu_read_unlock()		((void)0)

/* Never a KUnit build: the weight is the allocator's own function. */
#define VISIBLE_IF_KUNIT		static
#define KUNIT_STATIC_STUB_REDIRECT(fn, args...) \
	return test_##fn(args)

/* === Atomics (one thread: plain, but through the kernel's names) === */

typedef struct {
	int counter;
} atomic_t;

#define atomic_read(v)			((v)->counter)
#define atomic_inc(v)			((void)++(v)->counter)
#define atomic_dec_return_relaxed(v)	(--(v)->counter)

/* === CPUs === */

#define NR_CPUS			64
struct cpumask {
	unsigned long bits;
};

extern int nr_cpu_ids;			/* possible CPUs: 0 .. nr_cpu_ids - 1 */
extern struct cpumask test_possible_mask, test_online_mask;
const struct cpumask *cpumask_of(int cpu);
#define cpu_possible_mask	(&test_possible_mask)
#define cpu_online_mask		(&test_online_mask)
#define for_each_cpu(cpu, mask)						\
	for ((cpu) = 0; (cpu) < NR_CPUS; (cpu)++)			\
		if (!((mask)->bits & (1UL << (cpu)))) { } else
#define for_each_possible_cpu(cpu)	for_each_cpu(cpu, cpu_possible_mask)
#define for_each_online_cpu(cpu)	for_each_cpu(cpu, cpu_online_mask)
void cpus_read_lock(void);
void cpus_read_unlock(void);

/*
 * Per-CPU data: DEFINE_PER_CPU() variables live in one section, and each
 * simulated CPU has its own copy of that section; alloc_percpu() returns
 * NR_CPUS elements side by side.
 */
#define DEFINE_PER_CPU(type, name) \
	__attribute__((section("hwbp_percpu"))) __typeof__(type) name
void *test_per_cpu_ptr(const void *ptr, int cpu, size_t size);
#define per_cpu_ptr(ptr, cpu) \
	((__typeof__(ptr))test_per_cpu_ptr(ptr, cpu, sizeof(*(ptr))))
#define alloc_percpu(type)	((type *)test_alloc(NR_CPUS, sizeof(type)))
#define free_percpu(ptr)	test_free(ptr)

/* === Locks: single-threaded, but every rule checked === */

struct mutex {
	int locked;
};

struct percpu_rw_semaphore {
	int readers;
	int writer;
};

#define DEFINE_STATIC_PERCPU_RWSEM(name) \
	static struct percpu_rw_semaphore name

/* Sleeping with interrupts off is a test failure ("may sleep"). */
void test_might_sleep(const char *what);
#define might_sleep()	test_might_sleep("might_sleep")

static inline void mutex_init(struct mutex *m)
{
	m->locked = 0;
}

static inline void mutex_lock(struct mutex *m)
{
	test_might_sleep("mutex_lock");
	if (m->locked)
		test_warn("mutex_lock() of a held mutex (deadlock)", __FILE__, __LINE__);
	m->locked = 1;
}

static inline void mutex_unlock(struct mutex *m)
{
	if (!m->locked)
		test_warn("mutex_unlock() of a free mutex", __FILE__, __LINE__);
	m->locked = 0;
}

static inline bool mutex_is_locked(struct mutex *m)
{
	return m->locked;
}

static inline void percpu_down_write(struct percpu_rw_semaphore *s)
{
	test_might_sleep("percpu_down_write");
	if (s->writer || s->readers)
		test_warn("percpu_down_write() of a held rwsem", __FILE__, __LINE__);
	s->writer = 1;
}

static inline void percpu_up_write(struct percpu_rw_semaphore *s)
{
	if (!s->writer)
		test_warn("percpu_up_write() without the write lock", __FILE__, __LINE__);
	s->writer = 0;
}

static inline void percpu_down_read(struct percpu_rw_semaphore *s)
{
	test_might_sleep("percpu_down_read");
	if (s->writer)
		test_warn("percpu_down_read() under the write lock", __FILE__, __LINE__);
	s->readers++;
}

static inline void percpu_up_read(struct percpu_rw_semaphore *s)
{
	if (!s->readers)
		test_warn("percpu_up_read() without a read lock", __FILE__, __LINE__);
	s->readers--;
}

static inline bool percpu_is_write_locked(struct percpu_rw_semaphore *s)
{
	return s->writer;
}

static inline bool percpu_is_read_locked(struct percpu_rw_semaphore *s)
{
	return s->readers;
}

/* lockdep: held means held, unless the kernel debugger turned it off. */
extern int test_lockdep_off;
#define lockdep_off()	((void)test_lockdep_off++)
#define lockdep_on()	((void)test_lockdep_off--)

static inline bool test_held_mutex(struct mutex *m)
{
	return m->locked;
}

static inline bool test_held_rwsem(struct percpu_rw_semaphore *s)
{
	return s->readers || s->writer;
}

#define test_held(l) _Generic((l),					\
	struct mutex *: test_held_mutex,				\
	struct percpu_rw_semaphore *: test_held_rwsem)(l)
#define lockdep_assert_held(l) do {					\
	if (!test_lockdep_off && !test_held(l))				\
		test_warn("lockdep_assert_held(" #l ")", __FILE__, __LINE__); \
} while (0)
#define lockdep_assert_held_write(s) do {				\
	if (!test_lockdep_off && !(s)->writer)				\
		test_warn("lockdep_assert_held_write(" #s ")", __FILE__, __LINE__); \
} while (0)

/* A pointer hash like the kernel's: a multiplicative hash of the bits. */
static inline unsigned int hash_ptr(const void *ptr, unsigned int bits)
{
	return (unsigned int)(((uint64_t)(uintptr_t)ptr * 0x61c8864680b583ebULL) >>
			      (64 - bits));
}

/* === The task table: a hash table of per-key chains, like rhltable === */

struct rhlist_head {
	struct rhlist_head *next;	/* the next entry with this key */
	struct rhlist_head *group;	/* the next key in this bucket */
};

struct rhashtable_params {
	size_t	key_len;
	size_t	key_offset;
	size_t	head_offset;
	bool	automatic_shrinking;
};

#define TEST_RHL_BUCKETS	64
struct rhltable {
	struct rhlist_head		*bucket[TEST_RHL_BUCKETS];
	struct rhashtable_params	params;
	bool				ready;
};

int rhltable_init(struct rhltable *hlt, const struct rhashtable_params *params);
void rhltable_destroy(struct rhltable *hlt);
struct rhlist_head *rhltable_lookup(struct rhltable *hlt, const void *key,
				    const struct rhashtable_params params);
int rhltable_insert(struct rhltable *hlt, struct rhlist_head *list,
		    const struct rhashtable_params params);
int rhltable_remove(struct rhltable *hlt, struct rhlist_head *list,
		    const struct rhashtable_params params);

#define rhl_for_each_entry_rcu(tpos, pos, list, member)			\
	for ((pos) = (list);						\
	     (pos) && ((tpos) = container_of(pos, __typeof__(*(tpos)), member), 1); \
	     (pos) = (pos)->next)

/* === Perf events, as far as the allocator looks === */

struct task_struct;

/* What the test's arch parse stores: the model of a debug register. */
struct arch_hw_breakpoint {
	u64	address;
	u64	len;
	u8	type;
	bool	kernel;
};

struct hw_perf_event {
	struct task_struct		*target;
	struct rhlist_head		bp_list;
	struct arch_hw_breakpoint	info;
	int				state;
	u64				sample_period;
	u64				last_period;
};

struct perf_event_context {
	struct task_struct	*task;
};

struct perf_event {
	struct perf_event_attr		attr;
	struct hw_perf_event		hw;
	int				cpu;
	struct perf_event_context	*ctx;
	void				(*destroy)(struct perf_event *event);
	/* Test only: the model's record of this event. */
	int				test_id;
};

typedef void (*perf_overflow_handler_t)(struct perf_event *, void *, void *);

#define PERF_HES_STOPPED	0x01
#define PERF_EF_START		0x01
enum { perf_sw_context = 1 };

struct pmu {
	int	task_ctx_nr;
	int	(*event_init)(struct perf_event *event);
	int	(*add)(struct perf_event *event, int flags);
	void	(*del)(struct perf_event *event, int flags);
	void	(*start)(struct perf_event *event, int flags);
	void	(*stop)(struct perf_event *event, int flags);
	void	(*read)(struct perf_event *event);
};

struct notifier_block {
	int	(*notifier_call)(struct notifier_block *nb, unsigned long val,
				 void *data);
	int	priority;
};

static inline bool has_branch_stack(struct perf_event *event)
{
	return event->attr.sample_type & PERF_SAMPLE_BRANCH_STACK;
}

static inline bool is_sampling_event(struct perf_event *event)
{
	return event->attr.sample_period != 0;
}

/*
 * The UAPI access types (ABI values; the installed UAPI header of an older
 * kernel also defines its own enum bp_type_idx, so it is not included).
 */
enum {
	HW_BREAKPOINT_EMPTY	= 0,
	HW_BREAKPOINT_R		= 1,
	HW_BREAKPOINT_W		= 2,
	HW_BREAKPOINT_RW	= HW_BREAKPOINT_R | HW_BREAKPOINT_W,
	HW_BREAKPOINT_X		= 4,
	HW_BREAKPOINT_INVALID	= HW_BREAKPOINT_RW | HW_BREAKPOINT_X,
};

/* The kernel's <linux/hw_breakpoint.h> slot kinds. */
enum bp_type_idx {
	TYPE_INST	= 0,
	TYPE_DATA	= IS_ENABLED(CONFIG_HAVE_MIXED_BREAKPOINTS_REGS) ? 0 : 1,
	TYPE_MAX
};

/* Provided by the test, hw_breakpoint.c in this directory. */
extern struct task_struct *test_current;
#define current test_current
bool irqs_disabled(void);
bool capable(int cap);
int hw_breakpoint_slots(int type);
int test_hw_breakpoint_weight(const struct perf_event_attr *attr);
int hw_breakpoint_arch_parse(struct perf_event *bp,
			     const struct perf_event_attr *attr,
			     struct arch_hw_breakpoint *hw);
int arch_check_bp_in_kernelspace(struct arch_hw_breakpoint *hw);
int arch_install_hw_breakpoint(struct perf_event *bp);
void arch_uninstall_hw_breakpoint(struct perf_event *bp);
void hw_breakpoint_pmu_read(struct perf_event *bp);
int hw_breakpoint_exceptions_notify(struct notifier_block *unused,
				    unsigned long val, void *data);
int register_die_notifier(struct notifier_block *nb);
int unregister_die_notifier(struct notifier_block *nb);
int perf_pmu_register(struct pmu *pmu, const char *name, int type);
int perf_swevent_set_period(struct perf_event *event);
struct perf_event *perf_event_create_kernel_counter(struct perf_event_attr *attr,
						    int cpu,
						    struct task_struct *task,
						    perf_overflow_handler_t handler,
						    void *context);
int perf_event_release_kernel(struct perf_event *event);
void perf_event_disable(struct perf_event *event);
void perf_event_disable_local(struct perf_event *event);
void perf_event_enable(struct perf_event *event);
void test_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H */
