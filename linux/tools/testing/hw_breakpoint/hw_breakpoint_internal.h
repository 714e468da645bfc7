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
#include <assert.h>
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
/* No modules, no boot: an export or an initcall is a pointer, never used. */
#define EXPORT_SYMBOL_GPL(sym)	const void *const test_ksymtab_##sym = &(sym)
#define late_initcall(fn)	int (*const test_initcall_##fn)(void) = (fn)

/*
 * Nothing in the walk is moved to another PMU's context (every event's
 * pmu_ctx is the breakpoint PMU's), so the moved-group paths of add()
 * never run: time stands still, and what only they reach fails loudly.
 */
extern unsigned long jiffies;
#define msecs_to_jiffies(ms)	((unsigned long)(ms))

struct perf_event;

static inline bool test_no_moved_events(struct perf_event **sib,
					struct perf_event *leader)
{
	assert(!"no moved events in the walk");
	*sib = leader;
	return false;
}

/* Only a moved breakpoint that finds no register queues the push. */
struct irq_work {
	void (*func)(struct irq_work *work);
};

#define IRQ_WORK_INIT_HARD(fn)	{ .func = (fn) }

static inline bool irq_work_queue(struct irq_work *work)
{
	assert(!"no moved events in the walk");
	return false;
}

struct pmu;
void perf_pmu_resched(struct pmu *pmu);

static inline bool time_in_range(unsigned long a, unsigned long b,
				 unsigned long c)
{
	return (long)(a - b) >= 0 && (long)(c - a) >= 0;
}

#define for_each_sibling_event(sib, leader)				\
	for (bool __none = test_no_moved_events(&(sib), (leader)); __none;)

/* The kernel log is the test's output, unless the test silences it. */
extern bool test_quiet;
#define pr_info(fmt, ...) \
	(test_quiet ? 0 : printf(fmt, ##__VA_ARGS__))
#define pr_warn(fmt, ...)	pr_info(fmt, ##__VA_ARGS__)

/* IS_ENABLED(CONFIG_FOO) is CONFIG_FOO_ENABLED, 0 or 1, defined here. */
#define IS_ENABLED(CONFIG_opt)	CONFIG_opt##_ENABLED
#define CONFIG_KUNIT_ENABLED	0
#ifdef TEST_MIXED_REGS
#define CONFIG_HAVE_MIXED_BREAKPOINTS_REGS_ENABLED	1
#else
#define CONFIG_HAVE_MIXED_BREAKPOINTS_REGS_ENABLED	0
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT(n)			(1UL << (n))
#define GENMASK(h, l)		((~0UL >> (63 - (h))) & (~0UL << (l)))
#define U8_MAX			255
#define FIELD_PREP(m, v)	(((unsigned long)(v) << __builtin_ctzl(m)) & (m))
#define FIELD_GET(m, x)		(((x) & (m)) >> __builtin_ctzl(m))
#define hweight_long(w)		__builtin_popcountl(w)
#define __ffs(w)		((unsigned long)__builtin_ctzl(w))
#define for_each_set_bit(bit, addr, size)				\
	for (unsigned long __w = *(addr) & GENMASK((size) - 1, 0);	\
	     __w && ((bit) = __builtin_ctzl(__w), 1); __w &= __w - 1)

static inline void barrier(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define max(a, b) ({							\
	typeof(a) __a = (a);						\
	typeof(b) __b = (b);						\
									\
	__a > __b ? __a : __b;						\
})
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

static inline void *kcalloc(size_t n, size_t size, unsigned int gfp)
{
	return test_alloc(n, size);
}

static inline void *kzalloc(size_t size, unsigned int gfp)
{
	return test_alloc(1, size);
}

#define kfree(p)		test_free(p)

#define MAX_ERRNO		4095

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-MAX_ERRNO;
}

static inline int PTR_ERR_OR_ZERO(const void *ptr)
{
	return IS_ERR(ptr) ? (int)PTR_ERR(ptr) : 0;
}

/*
 * One thread of execution: KCSAN's and RCU's markers have no work, and
 * READ_ONCE()/WRITE_ONCE() are relaxed atomic accesses, which the compiler
 * neither tears nor drops, as the kernel's volatile ones.
 */
#define ASSERT_EXCLUSIVE_WRITER(var)	((void)sizeof(var))
#define data_race(expr)			(expr)	/* no other thread to race */
#define READ_ONCE(x)			__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val)		__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#define rcu_read_lock()			((void)0)
#define rcu_read_unlock()		((void)0)

/*
 * Never a KUnit build: the weight is the allocator's own (static) function,
 * whose stub always redirects to the test's test_<fn>(), of the same type.
 */
#define VISIBLE_IF_KUNIT		static
#define KUNIT_STATIC_STUB_REDIRECT(fn, args...) do {			\
	typeof(fn) *replacement = test_##fn;				\
									\
	return replacement(args);					\
} while (0)

/* === Atomics (one thread: plain, but through the kernel's names) === */

struct test_atomic {
	int counter;
};

typedef struct test_atomic atomic_t;

#define ATOMIC_INIT(i)		{ .counter = (i) }

static inline int atomic_read(const atomic_t *v)
{
	return v->counter;
}

static inline void atomic_inc(atomic_t *v)
{
	v->counter++;
}

static inline int atomic_dec_return_relaxed(atomic_t *v)
{
	return --v->counter;
}

static inline int atomic_dec_return(atomic_t *v)
{
	return --v->counter;
}

/* === CPUs === */

#define TEST_NR_CPUS		64	/* the most the test simulates */

struct cpumask {
	unsigned long bits;
};

extern int nr_cpu_ids;			/* possible CPUs: 0 .. nr_cpu_ids - 1 */
extern struct cpumask test_possible_mask, test_online_mask;
const struct cpumask *cpumask_of(int cpu);
#define cpu_possible_mask	(&test_possible_mask)
#define cpu_online_mask		(&test_online_mask)

/* for_each_cpu()'s cursor, set before the first CPU. */
static inline int *test_cpu_begin(int *cpu)
{
	*cpu = -1;
	return cpu;
}

/* Move *@cpu to the next CPU in @mask; past the last, TEST_NR_CPUS and false. */
static inline bool test_cpu_next(int *cpu, const struct cpumask *mask)
{
	while (++*cpu < TEST_NR_CPUS) {
		if (mask->bits & (1UL << *cpu))
			return true;
	}
	return false;
}

#define for_each_cpu(cpu, mask)						\
	for (int *__cpu = test_cpu_begin(&(cpu)); test_cpu_next(__cpu, mask);)
#define for_each_possible_cpu(cpu)	for_each_cpu(cpu, cpu_possible_mask)
#define for_each_online_cpu(cpu)	for_each_cpu(cpu, cpu_online_mask)
void cpus_read_lock(void);
void cpus_read_unlock(void);

/*
 * CPU hotplug: one multi-instance state. The walk brings CPUs down and
 * up through test_cpu_toggle(), which calls its callbacks for every
 * instance as the hotplug thread would, the hotplug lock held for
 * writing; adding an instance needs it held for reading, removing one
 * takes it.
 */
struct hlist_node {
	struct hlist_node	*next;
};

#define hlist_entry(ptr, type, member)	container_of(ptr, type, member)

enum cpuhp_state { CPUHP_AP_ONLINE_DYN = 1 };

int cpuhp_setup_state_multi(enum cpuhp_state state, const char *name,
			    int (*online)(unsigned int cpu, struct hlist_node *node),
			    int (*offline)(unsigned int cpu, struct hlist_node *node));
int cpuhp_state_add_instance_nocalls_cpuslocked(int state,
						struct hlist_node *node);
int cpuhp_state_remove_instance_nocalls(int state, struct hlist_node *node);

/*
 * Doubly linked lists, as <linux/list.h> (what the allocator uses). A
 * LIST_HEAD() starts zeroed and counts as empty until its first add.
 */
struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD(name)	struct list_head name = { }

static inline struct list_head *test_list_first(struct list_head *head)
{
	return head->next ? head->next : head;
}

#define list_for_each_entry(pos, head, member)				\
	for (struct list_head *__h = (head), *__c = test_list_first(__h); \
	     __c != __h &&						\
	     ((pos) = container_of(__c, typeof((pos)[0]), member), 1);	\
	     __c = __c->next)

static inline void list_add(struct list_head *new, struct list_head *head)
{
	if (!head->next) {
		head->next = head;
		head->prev = head;
	}
	new->next = head->next;
	new->prev = head;
	head->next->prev = new;
	head->next = new;
}

static inline void list_del(struct list_head *entry)
{
	entry->prev->next = entry->next;
	entry->next->prev = entry->prev;
	entry->next = NULL;
	entry->prev = NULL;
}

/*
 * Per-CPU data. A DEFINE_PER_CPU() variable is an ordinary one, never
 * used directly: each element per_cpu_ptr() is asked for gets
 * TEST_NR_CPUS copies of its own on first use, found by its address (the
 * allocator always names a per-CPU element by the same address, or a
 * member inside one it named before; the test checks that).
 * alloc_percpu() returns TEST_NR_CPUS elements side by
 * side, and per_cpu_ptr() of that block picks one.
 */
#define DEFINE_PER_CPU(type, name)	type name
#define DECLARE_PER_CPU(type, name)	extern type name
void *test_per_cpu_ptr(const void *ptr, int cpu, size_t size);
#define per_cpu_ptr(ptr, cpu) ({					\
	typeof(ptr) __p = (ptr);					\
									\
	(typeof(__p))test_per_cpu_ptr(__p, cpu, sizeof(*__p));		\
})
/* The CPU the test runs PMU callbacks on, as perf would with irqs off. */
extern int test_this_cpu;
#define this_cpu_ptr(ptr)	per_cpu_ptr(ptr, test_this_cpu)
#define this_cpu_read(var)	(*this_cpu_ptr(&(var)))
#define this_cpu_write(var, v)	((void)(*this_cpu_ptr(&(var)) = (v)))
#define this_cpu_or(var, v)	((void)(*this_cpu_ptr(&(var)) |= (v)))
#define this_cpu_and(var, v)	((void)(*this_cpu_ptr(&(var)) &= (v)))
#define this_cpu_inc(var)	((void)(*this_cpu_ptr(&(var)) += 1))
#define this_cpu_dec(var)	((void)(*this_cpu_ptr(&(var)) -= 1))
/* PMU callbacks run as perf's scheduling runs them; kgdb is not modelled. */
#define in_nmi()		0
#define smp_processor_id()	test_this_cpu
/* The walk's own interrupt state (irqs_off), saved and restored. */
unsigned long test_irq_save(void);
void test_irq_restore(unsigned long flags);
#define local_irq_save(flags)	((flags) = test_irq_save())
#define local_irq_restore(flags) test_irq_restore(flags)
void *test_alloc_percpu(size_t size);
void test_free_percpu(void *ptr);
#define alloc_percpu(type) \
	((type *)test_alloc_percpu(sizeof(type)))
#define free_percpu(ptr)	test_free_percpu(ptr)

/* === Locks: single-threaded, but every rule checked === */

/* Who holds a lock: what every lock here starts with, for lockdep. */
struct test_lock {
	int	readers;	/* holders for reading (rwsems only) */
	int	writer;		/* the holder for writing, a mutex's owner */
};

struct mutex {
	struct test_lock	holders;
};

struct percpu_rw_semaphore {
	struct test_lock	holders;
};

#define DEFINE_STATIC_PERCPU_RWSEM(name) \
	static struct percpu_rw_semaphore name

/* Sleeping with interrupts off is a test failure ("may sleep"). */
void test_might_sleep(const char *what);
#define might_sleep()	test_might_sleep("might_sleep")

/* So is breaking a locking rule: "@fn() @what" is the report. */
void test_lock_warn(const char *fn, const char *what, const char *file,
		    int line);

static inline void mutex_init(struct mutex *m)
{
	m->holders.writer = 0;
}

static inline void mutex_lock(struct mutex *m)
{
	test_might_sleep(__func__);
	if (m->holders.writer)
		test_lock_warn(__func__, "of a held mutex (deadlock)",
			       __FILE__, __LINE__);
	m->holders.writer = 1;
}

static inline void mutex_unlock(struct mutex *m)
{
	if (!m->holders.writer)
		test_lock_warn(__func__, "of a free mutex", __FILE__, __LINE__);
	m->holders.writer = 0;
}

static inline bool mutex_is_locked(struct mutex *m)
{
	return m->holders.writer;
}

#define DEFINE_MUTEX(name)	struct mutex name = { }

static inline void percpu_down_write(struct percpu_rw_semaphore *s)
{
	test_might_sleep(__func__);
	if (s->holders.writer || s->holders.readers)
		test_lock_warn(__func__, "of a held rwsem", __FILE__, __LINE__);
	s->holders.writer = 1;
}

static inline void percpu_up_write(struct percpu_rw_semaphore *s)
{
	if (!s->holders.writer)
		test_lock_warn(__func__, "without the write lock", __FILE__,
			       __LINE__);
	s->holders.writer = 0;
}

static inline void percpu_down_read(struct percpu_rw_semaphore *s)
{
	test_might_sleep(__func__);
	if (s->holders.writer)
		test_lock_warn(__func__, "under the write lock", __FILE__,
			       __LINE__);
	s->holders.readers++;
}

static inline void percpu_up_read(struct percpu_rw_semaphore *s)
{
	if (!s->holders.readers)
		test_lock_warn(__func__, "without a read lock", __FILE__,
			       __LINE__);
	s->holders.readers--;
}

static inline bool percpu_is_write_locked(struct percpu_rw_semaphore *s)
{
	return s->holders.writer;
}

static inline bool percpu_is_read_locked(struct percpu_rw_semaphore *s)
{
	return s->holders.readers;
}

/* lockdep: held means held, unless the kernel debugger turned it off. */
extern int test_lockdep_off;
#define lockdep_assert_irqs_disabled() do {				\
	if (!irqs_disabled())						\
		test_warn("lockdep_assert_irqs_disabled()", __FILE__, __LINE__); \
} while (0)
#define lockdep_off()	((void)test_lockdep_off++)
#define lockdep_on()	((void)test_lockdep_off--)

static inline bool test_lock_held(const struct test_lock *l)
{
	return l->readers || l->writer;
}

#define lockdep_assert_held(l) do {					\
	if (!test_lockdep_off && !test_lock_held(&(l)->holders))	\
		test_warn("lockdep_assert_held(" #l ")", __FILE__, __LINE__); \
} while (0)
#define lockdep_assert_held_write(s) do {				\
	if (!test_lockdep_off && !(s)->holders.writer)			\
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

/* rhl_for_each_entry_rcu()'s cursor @pos, set to the chain's first entry. */
static inline struct rhlist_head **test_rhl_begin(struct rhlist_head **pos,
						  struct rhlist_head *list)
{
	*pos = list;
	return pos;
}

/*
 * @pos walks the chain from @list and @tpos is the entry @pos is in; its
 * type, typeof((tpos)[0]), is that of *@tpos.
 */
#define rhl_for_each_entry_rcu(tpos, pos, list, member)			\
	for (struct rhlist_head **__pos = test_rhl_begin(&(pos), list);	\
	     *__pos &&							\
	     ((tpos) = container_of(*__pos, typeof((tpos)[0]), member), 1); \
	     *__pos = (*__pos)->next)

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
	unsigned long			bp_regs;
	int				state;
	u64				sample_period;
	u64				last_period;
};

struct perf_event_context {
	struct task_struct	*task;
};

/* The PMU context an event is in: its own PMU's, unless perf moved it. */
struct perf_event_pmu_context {
	struct pmu			*pmu;
};

struct perf_event {
	struct perf_event_attr		attr;
	struct hw_perf_event		hw;
	int				cpu;
	struct pmu			*pmu;
	struct perf_event_pmu_context	*pmu_ctx;
	/* Its own, another breakpoint, or the test's foreign leader. */
	struct perf_event		*group_leader;
	void				*pmu_private;
	struct perf_event_context	*ctx;
	void				(*destroy)(struct perf_event *event);
	/* Test only: the model's record of this event. */
	int				test_id;
	/* Test only: user space opened it (is_kernel_event() is false). */
	bool				test_user;
};

static inline bool is_kernel_event(struct perf_event *event)
{
	return !event->test_user;
}

typedef void (*perf_overflow_handler_t)(struct perf_event *, void *, void *);

#define PERF_HES_STOPPED	0x01
#define PERF_EF_START		0x01
enum { perf_sw_context = 1 };

struct attribute_group;

struct pmu {
	int	task_ctx_nr;
	int	hrtimer_interval_ms;
	const struct attribute_group	**attr_groups;
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

/*
 * The kernel's <linux/hw_breakpoint.h> register map. The arch model is
 * one that lets the core choose its registers (x86, arm64), unless
 * TEST_ARCH_INSTALL asks for one that installs by itself (every other
 * arch), for which the map only counts.
 */
#define HW_BREAKPOINT_MAX_REGS	16

struct hw_breakpoint_regs {
	struct perf_event	*owner[HW_BREAKPOINT_MAX_REGS];
	unsigned long		held;
};

DECLARE_PER_CPU(struct hw_breakpoint_regs, hw_breakpoint_regs[TYPE_MAX]);
int hw_breakpoint_install(struct perf_event *bp);
void hw_breakpoint_uninstall(struct perf_event *bp);
#ifndef TEST_ARCH_INSTALL
#define arch_hw_breakpoint_program arch_hw_breakpoint_program
void arch_hw_breakpoint_program(struct perf_event *bp, int piece, int reg);
void arch_hw_breakpoint_clear(struct perf_event *bp, int reg);
void arch_hw_breakpoint_move(struct perf_event *bp, int piece, int reg);
#endif

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

#endif /* _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H */
