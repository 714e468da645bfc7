// SPDX-License-Identifier: GPL-2.0
/*
 * The hardware-breakpoint slot allocator, kernel/events/hw_breakpoint.c,
 * compiled and run in user space against a model of its rules.
 *
 * Every reserve, release and modify the allocator answers, through each
 * of its entry points (perf event creation, register_user_hw_breakpoint(),
 * register_wide_hw_breakpoint(), modify_user_hw_breakpoint[_check](), the
 * kgdb helpers), is compared with a brute-force recount of the
 * breakpoints the model holds, and after every operation the allocator's
 * histograms must equal the ones recounted from scratch. Allocation and
 * hash-table failures are injected at random and must leave nothing
 * behind. The walk is seeded: "hw_breakpoint -s SEED" replays a failure.
 *
 * See Documentation/dev-tools/hw-breakpoint.rst for the rules modelled.
 */
#include <unistd.h>
#include "hw_breakpoint_internal.h"

/* The allocator itself: its statics are visible to the checks below. */
#include "../../../kernel/events/hw_breakpoint.c"

/* === The simulated machine === */

#define MAX_TASKS	24
#define MAX_BPS		512
#define KERNEL_BASE	0xffff800000000000ULL	/* addresses above are kernel */
#define USER_ADDR	0x10000ULL

struct task_struct {
	int				id;
	struct perf_event_context	ctx;
};

int nr_cpu_ids;
struct cpumask test_possible_mask, test_online_mask;
struct task_struct *test_current;
int test_this_cpu;
int test_lockdep_off;
bool test_quiet;
unsigned long jiffies;

static struct task_struct tasks[MAX_TASKS];
static int nr_slots[2];			/* by enum bp_type_idx */
static bool irqs_off, is_admin = true;
static int cpus_locked;
/* The group the next event perf makes joins (NULL: it leads its own). */
static struct perf_event *test_group_leader;
/*
 * A group leader of another PMU (a cpu-clock event, say): breakpoints in
 * its group are counted as pinned, pinned or not.
 */
static struct pmu foreign_pmu;
static struct perf_event foreign_leader = { .pmu = &foreign_pmu };
/* Every breakpoint is in the breakpoint PMU's own context. */
static struct perf_event_pmu_context bp_pmu_ctx = { .pmu = &perf_breakpoint };

/* Failure injection: one in fail_rate calls fails (0: never). */
static unsigned int alloc_fail_rate, insert_fail_rate;
static int fail_nth;			/* the n-th allocation from now fails */
static unsigned long nr_allocs_live;

static unsigned long failures;

/* What the walk did: proof that each outcome was reached. */
enum stat {
	ST_CREATE_OK, ST_CREATE_NOSPC, ST_CREATE_INVAL, ST_CREATE_NOMEM,
	ST_MODIFY_OK, ST_MODIFY_MOVED, ST_MODIFY_NOSPC, ST_MODIFY_INVAL,
	ST_MODIFY_IRQS_OFF, ST_WIDE_OK, ST_WIDE_NOSPC, ST_DBG_OK, ST_DBG_BUSY,
	ST_DBG_NOSPC, ST_RELEASE, ST_FLEX_OFF, ST_FLEX_BUSY, ST_SCHED,
	ST_SCHED_FLEX_BUSY, ST_CREATE_GROUPED, ST_SCHED_GROUP, ST_MOVED,
	ST_MOVE_INVAL, ST_MOVE_NMI_BUSY, ST_HP_WIDE, ST_HP_DOWN, ST_HP_UP,
	ST_HP_UP_NOSPC, ST_MAX
};

static const char *const stat_name[ST_MAX] = {
	"created", "create ENOSPC", "create refused (EINVAL, EPERM, ...)",
	"create ENOMEM (injected)", "modified", "modified to other slots",
	"modify ENOSPC", "modify EINVAL", "modified with interrupts off",
	"wide registered", "wide ENOSPC", "kgdb reserved", "kgdb EBUSY",
	"kgdb ENOSPC", "released", "flexible mode turned off",
	"flexible mode off refused (EBUSY)", "a CPU scheduled",
	"a flexible add refused (rotated later)",
	"created in another breakpoint's group",
	"a flexible group of 2+ scheduled whole",
	"moved from interrupts-off context",
	"move refused (EINVAL, EOPNOTSUPP)",
	"an NMI's move refused (EBUSY)",
	"wide registered, following hotplug",
	"a CPU down: its event gone",
	"a CPU up: its event made",
	"a CPU up without its event (ENOSPC)",
};

static unsigned long long stats[ST_MAX];
static unsigned long long step;
static unsigned long long seed = 1;

/* After ten failures, the walk gives up. */
static void failed(void)
{
	if (++failures >= 10)
		exit(1);
}

/* A failure, reported with the seed and step that replay it. */
#define fail(fmt, ...) do {						\
	fprintf(stderr, "FAIL (seed %llu, step %llu): " fmt "\n",	\
		seed, step, ##__VA_ARGS__);				\
	failed();							\
} while (0)

void test_warn(const char *cond, const char *file, int line)
{
	fail("WARN: %s at %s:%d", cond, file, line);
}

void test_lock_warn(const char *fn, const char *what, const char *file,
		    int line)
{
	fail("WARN: %s() %s at %s:%d", fn, what, file, line);
}

unsigned long test_irq_save(void)
{
	unsigned long was = irqs_off;

	irqs_off = true;
	return was;
}

void test_irq_restore(unsigned long flags)
{
	irqs_off = flags;
}

void test_might_sleep(const char *what)
{
	if (irqs_off)
		fail("%s() with interrupts off: sleeping in atomic context", what);
}

/* xorshift64*: the walk's only source of randomness. */
static unsigned long long rng_state;

static unsigned int rnd(unsigned int n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned int)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

static bool chance(unsigned int one_in)
{
	return one_in && rnd(one_in) == 0;
}

void *test_alloc(size_t n, size_t size)
{
	void *p;

	if (fail_nth && --fail_nth == 0)
		return NULL;
	if (chance(alloc_fail_rate))
		return NULL;
	if (!n || !size)
		return ZERO_SIZE_PTR;	/* as kcalloc(0, ...) */
	p = calloc(n, size);
	if (p)
		nr_allocs_live++;
	return p;
}

void test_free(const void *p)
{
	if (!p || p == ZERO_SIZE_PTR)
		return;
	nr_allocs_live--;
	free((void *)p);
}

const struct cpumask *cpumask_of(int cpu)
{
	static struct cpumask one[TEST_NR_CPUS];

	one[cpu].bits = 1UL << cpu;
	return &one[cpu];
}

/* Set while test_cpu_toggle() runs the callbacks (the lock held for writing). */
static bool cpus_write_locked;

void cpus_read_lock(void)
{
	test_might_sleep("cpus_read_lock");
	if (cpus_write_locked)
		fail("%s() in a CPU hotplug callback: deadlock", __func__);
	cpus_locked++;
}

void cpus_read_unlock(void)
{
	cpus_locked--;
}

/* The one multi-instance hotplug state: its callbacks and instances. */
#define TEST_CPUHP_STATE	42
static int (*cpuhp_online)(unsigned int cpu, struct hlist_node *node);
static int (*cpuhp_offline)(unsigned int cpu, struct hlist_node *node);
static struct hlist_node *cpuhp_instances;

int cpuhp_setup_state_multi(enum cpuhp_state state, const char *name,
			    int (*online)(unsigned int cpu, struct hlist_node *node),
			    int (*offline)(unsigned int cpu, struct hlist_node *node))
{
	test_might_sleep(__func__);
	if (cpus_locked)
		fail("%s() with the hotplug lock held: it takes it", __func__);
	if (cpuhp_online)
		fail("a second hotplug state set up (%s)", name);
	cpuhp_online = online;
	cpuhp_offline = offline;
	return TEST_CPUHP_STATE;
}

int cpuhp_state_add_instance_nocalls_cpuslocked(int state,
						struct hlist_node *node)
{
	if (state != TEST_CPUHP_STATE || !cpus_locked)
		fail("%s(): state %d, hotplug lock held %d", __func__, state,
		     cpus_locked);
	node->next = cpuhp_instances;
	cpuhp_instances = node;
	return 0;
}

int cpuhp_state_remove_instance_nocalls(int state, struct hlist_node *node)
{
	struct hlist_node **pos;

	test_might_sleep(__func__);
	if (state != TEST_CPUHP_STATE || cpus_locked)
		fail("%s(): state %d, hotplug lock held %d", __func__, state,
		     cpus_locked);
	for (pos = &cpuhp_instances; *pos && *pos != node; pos = &(*pos)->next)
		;
	if (!*pos) {
		fail("%s() of an instance never added", __func__);
		return -ENOENT;
	}
	*pos = node->next;
	return 0;
}

/*
 * @cpu goes down, or comes up: every instance's callback runs on it, as
 * the hotplug thread runs them, the lock held for writing; a CPU going
 * down is still online while they run. None may fail (a CPU is never
 * kept offline for a breakpoint).
 */
static void test_cpu_toggle(int cpu)
{
	bool up = !(test_online_mask.bits & (1UL << cpu));
	int was = test_this_cpu, ret;
	struct hlist_node *n;

	if (up)
		test_online_mask.bits |= 1UL << cpu;
	test_this_cpu = cpu;
	cpus_write_locked = true;
	for (n = cpuhp_instances; n; n = n->next) {
		ret = up ? cpuhp_online(cpu, n) : cpuhp_offline(cpu, n);
		if (ret)
			fail("CPU %d going %s: a callback failed (%d)", cpu,
			     up ? "up" : "down", ret);
	}
	cpus_write_locked = false;
	test_this_cpu = was;
	if (!up)
		test_online_mask.bits &= ~(1UL << cpu);
}

/* Per-CPU elements: their copies, and the live alloc_percpu() blocks. */
#define MAX_SHADOWS	16
#define MAX_PCPU_ALLOCS	8

static struct shadow {
	const char	*key;		/* the element's address */
	size_t		size;
	char		*copies;	/* TEST_NR_CPUS of them */
} shadows[MAX_SHADOWS];
static int nr_shadows;

static struct {
	const char	*base;
	size_t		size;		/* of one element */
} pcpu_allocs[MAX_PCPU_ALLOCS];

void *test_alloc_percpu(size_t size)
{
	void *p = test_alloc(TEST_NR_CPUS, size);
	int i;

	for (i = 0; p && i < MAX_PCPU_ALLOCS; i++) {
		if (!pcpu_allocs[i].base) {
			pcpu_allocs[i].base = p;
			pcpu_allocs[i].size = size;
			return p;
		}
	}
	if (p)
		fail("more than %d alloc_percpu() blocks live", MAX_PCPU_ALLOCS);
	return p;
}

void test_free_percpu(void *ptr)
{
	int i;

	for (i = 0; ptr && i < MAX_PCPU_ALLOCS; i++)
		if (pcpu_allocs[i].base == ptr)
			pcpu_allocs[i].base = NULL;
	test_free(ptr);
}

void *test_per_cpu_ptr(const void *ptr, int cpu, size_t size)
{
	const char *p = ptr;
	struct shadow *sh;
	int i;

	if (cpu < 0 || cpu >= nr_cpu_ids)
		fail("per_cpu_ptr() of CPU %d (%d possible)", cpu, nr_cpu_ids);
	for (i = 0; i < MAX_PCPU_ALLOCS; i++) {
		const char *base = pcpu_allocs[i].base;

		if (base && p >= base && p < base + TEST_NR_CPUS * pcpu_allocs[i].size) {
			if (p != base || size != pcpu_allocs[i].size)
				fail("per_cpu_ptr() inside an alloc_percpu() block");
			return (char *)base + cpu * size;
		}
	}
	for (i = 0; i < nr_shadows; i++) {
		sh = &shadows[i];
		if (sh->key == p && sh->size == size)
			return sh->copies + cpu * size;
		/* A member of an element (this_cpu_or(var.member, ...)). */
		if (p >= sh->key && p + size <= sh->key + sh->size &&
		    size < sh->size)
			return sh->copies + cpu * sh->size + (p - sh->key);
		if (p < sh->key + sh->size && sh->key < p + size)
			fail("per_cpu_ptr() of %p overlaps the element at %p",
			     ptr, (const void *)sh->key);
	}
	if (nr_shadows == MAX_SHADOWS)
		fail("more than %d per-CPU elements", MAX_SHADOWS);
	sh = &shadows[nr_shadows++];
	sh->key = p;
	sh->size = size;
	sh->copies = calloc(TEST_NR_CPUS, size);
	if (!sh->copies) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return sh->copies + cpu * size;
}

static void percpu_reset(void)
{
	int i;

	for (i = 0; i < nr_shadows; i++)
		memset(shadows[i].copies, 0, TEST_NR_CPUS * shadows[i].size);
}

/* === The task table === */

static const void *rhl_key(const struct rhashtable_params *p,
			   const struct rhlist_head *node)
{
	return (const char *)node - p->head_offset + p->key_offset;
}

static unsigned int rhl_bucket(const struct rhashtable_params *p,
			       const void *key)
{
	const unsigned char *k = key;
	unsigned int h = 2166136261u;
	size_t i;

	for (i = 0; i < p->key_len; i++)
		h = (h ^ k[i]) * 16777619u;
	return h % TEST_RHL_BUCKETS;
}

int rhltable_init(struct rhltable *hlt, const struct rhashtable_params *params)
{
	memset(hlt, 0, sizeof(*hlt));
	hlt->params = *params;
	hlt->ready = true;
	return 0;
}

void rhltable_destroy(struct rhltable *hlt)
{
	hlt->ready = false;
}

struct rhlist_head *rhltable_lookup(struct rhltable *hlt, const void *key,
				    const struct rhashtable_params params)
{
	struct rhlist_head *g;

	for (g = hlt->bucket[rhl_bucket(&params, key)]; g; g = g->group)
		if (!memcmp(rhl_key(&params, g), key, params.key_len))
			return g;
	return NULL;
}

int rhltable_insert(struct rhltable *hlt, struct rhlist_head *node,
		    const struct rhashtable_params params)
{
	const void *key = rhl_key(&params, node);
	struct rhlist_head *head = rhltable_lookup(hlt, key, params);
	struct rhlist_head **b = &hlt->bucket[rhl_bucket(&params, key)];

	if (!hlt->ready)
		fail("%s() into an uninitialised table", __func__);
	if (chance(insert_fail_rate))
		return -ENOMEM;
	if (head) {
		node->next = head->next;
		head->next = node;
		return 0;
	}
	node->next = NULL;
	node->group = *b;
	*b = node;
	return 0;
}

int rhltable_remove(struct rhltable *hlt, struct rhlist_head *node,
		    const struct rhashtable_params params)
{
	const void *key = rhl_key(&params, node);
	struct rhlist_head **g, **e;

	for (g = &hlt->bucket[rhl_bucket(&params, key)]; *g; g = &(*g)->group) {
		if (memcmp(rhl_key(&params, *g), key, params.key_len))
			continue;
		if (*g == node) {
			if (node->next) {
				node->next->group = node->group;
				*g = node->next;
			} else {
				*g = node->group;
			}
			return 0;
		}
		for (e = &(*g)->next; *e; e = &(*e)->next) {
			if (*e == node) {
				*e = node->next;
				return 0;
			}
		}
		return -ENOENT;
	}
	return -ENOENT;
}

/* === The arch and perf's core, as the allocator sees them === */

bool irqs_disabled(void)
{
	return irqs_off;
}

bool capable(int cap)
{
	return cap == CAP_SYS_ADMIN && is_admin;
}

int hw_breakpoint_slots(int type)
{
	return nr_slots[type];
}

/* The test's breakpoints take bp_len registers: weights 1 to 8. */
int test_hw_breakpoint_weight(const struct perf_event_attr *attr)
{
	return (int)attr->bp_len;
}

/* Lengths 1 to 8; an address at or above KERNEL_BASE is the kernel's. */
int hw_breakpoint_arch_parse(struct perf_event *bp,
			     const struct perf_event_attr *attr,
			     struct arch_hw_breakpoint *hw)
{
	(void)bp;
	if (!attr->bp_len || attr->bp_len > 8)
		return -EINVAL;
	hw->address = attr->bp_addr;
	hw->len = attr->bp_len;
	hw->type = (u8)attr->bp_type;
	hw->kernel = attr->bp_addr >= KERNEL_BASE;
	return 0;
}

int arch_check_bp_in_kernelspace(struct arch_hw_breakpoint *hw)
{
	return hw->kernel;
}

static int type_of(u64 bp_type);

/*
 * The arch's registers, per CPU and type. By default the arch is one
 * that lets the core choose (x86, arm64): it records what the core
 * programs into each register and clears, and fails a register
 * programmed twice or cleared for another event, a piece outside the
 * event's weight, and a register programmed before the core's map names
 * its owner or cleared after the map dropped it (a debug exception in
 * between would find no owner). With TEST_ARCH_INSTALL it is one that
 * installs by itself (every other arch) and only counts; the map counts
 * for it. Either way a full CPU refuses with -EBUSY, but the allocator
 * must never ask it then: other arches warn.
 */
static int regs_used[TEST_NR_CPUS][2];

static struct hw_breakpoint_regs *map_of(int cpu, int type)
{
	return per_cpu_ptr(&hw_breakpoint_regs[type], cpu);
}

/* The event try_moves() is moving, and the piece each register got. */
static struct perf_event *moving;
static int moved_piece[HW_BREAKPOINT_MAX_REGS];
static int nr_moved;

#ifndef TEST_ARCH_INSTALL
static void nmi_move(void);
#endif

#ifndef TEST_ARCH_INSTALL
static struct perf_event *arch_regs[TEST_NR_CPUS][2][HW_BREAKPOINT_MAX_REGS];

void arch_hw_breakpoint_program(struct perf_event *bp, int piece, int reg)
{
	int type = type_of(bp->attr.bp_type), cpu = test_this_cpu;
	struct hw_breakpoint_regs *map = map_of(cpu, type);

	if (!irqs_off)
		fail("%s() with interrupts on", __func__);
	if (reg < 0 || reg >= nr_slots[type] || piece < 0 ||
	    piece >= (int)bp->attr.bp_len) {
		fail("CPU %d: piece %d of breakpoint %d (weight %d) in register %d of %d",
		     cpu, piece, bp->test_id, (int)bp->attr.bp_len, reg,
		     nr_slots[type]);
		return;
	}
	if (arch_regs[cpu][type][reg])
		fail("CPU %d: register %d of type %d programmed for %d, holding %d",
		     cpu, reg, type, bp->test_id,
		     arch_regs[cpu][type][reg]->test_id);
	if (map->owner[reg] != bp || !(map->held & BIT(reg)))
		fail("CPU %d: register %d programmed before the map names %d",
		     cpu, reg, bp->test_id);
	arch_regs[cpu][type][reg] = bp;
	regs_used[cpu][type]++;
	nmi_move();
}

void arch_hw_breakpoint_clear(struct perf_event *bp, int reg)
{
	int type = type_of(bp->attr.bp_type), cpu = test_this_cpu;
	struct hw_breakpoint_regs *map = map_of(cpu, type);

	if (!irqs_off)
		fail("%s() with interrupts on", __func__);
	if (reg < 0 || reg >= nr_slots[type] || arch_regs[cpu][type][reg] != bp) {
		fail("CPU %d: register %d of type %d cleared for %d, not its own",
		     cpu, reg, type, bp->test_id);
		return;
	}
	if (map->owner[reg] != bp)
		fail("CPU %d: register %d's owner dropped before it was cleared",
		     cpu, reg);
	arch_regs[cpu][type][reg] = NULL;
	regs_used[cpu][type]--;
}

void arch_hw_breakpoint_move(struct perf_event *bp, int piece, int reg)
{
	int type = type_of(bp->attr.bp_type), cpu = test_this_cpu;

	nr_moved++;
	if (!irqs_off)
		fail("%s() with interrupts on", __func__);
	if (bp != moving || reg < 0 || reg >= nr_slots[type] ||
	    arch_regs[cpu][type][reg] != bp || moved_piece[reg] >= 0) {
		fail("CPU %d: register %d of type %d moved for %d: not its own, or twice",
		     cpu, reg, type, bp->test_id);
		return;
	}
	moved_piece[reg] = piece;
	nmi_move();
}

#else /* TEST_ARCH_INSTALL */
int arch_install_hw_breakpoint(struct perf_event *bp)
{
	int type = type_of(bp->attr.bp_type), w = (int)bp->attr.bp_len;

	if (!irqs_off)
		fail("%s() with interrupts on", __func__);
	if (regs_used[test_this_cpu][type] + w > nr_slots[type]) {
		fail("CPU %d: the arch asked for %d registers of type %d, %d of %d free",
		     test_this_cpu, w, type,
		     nr_slots[type] - regs_used[test_this_cpu][type],
		     nr_slots[type]);
		return -EBUSY;
	}
	regs_used[test_this_cpu][type] += w;
	return 0;
}

void arch_uninstall_hw_breakpoint(struct perf_event *bp)
{
	int type = type_of(bp->attr.bp_type);

	regs_used[test_this_cpu][type] -= (int)bp->attr.bp_len;
	if (regs_used[test_this_cpu][type] < 0)
		fail("%s() of a breakpoint not installed", __func__);
}
#endif /* TEST_ARCH_INSTALL */

/*
 * The core's map of @cpu against the arch's registers: the same number
 * held, the same owner in each (when the core chooses), and each of
 * @in's @nr events in as many registers as its weight.
 */
static void check_map(int cpu, struct perf_event **in, int nr)
{
	int type, reg, i;

	for (type = 0; type < TYPE_MAX; type++) {
		struct hw_breakpoint_regs *map = map_of(cpu, type);

		if (hweight_long(map->held) != regs_used[cpu][type])
			fail("CPU %d type %d: %d registers in the map, the arch holds %d",
			     cpu, type, hweight_long(map->held),
			     regs_used[cpu][type]);
		if (nr_slots[type] ? map->held & ~GENMASK(nr_slots[type] - 1, 0) :
		    map->held)
			fail("CPU %d type %d: map %#lx beyond %d registers",
			     cpu, type, map->held, nr_slots[type]);
		for (reg = 0; reg < HW_BREAKPOINT_MAX_REGS; reg++) {
			bool held = map->held & BIT(reg);

			if (held != !!map->owner[reg])
				fail("CPU %d type %d: register %d held %d, owner %p",
				     cpu, type, reg, held, (void *)map->owner[reg]);
			if (!!(per_cpu_ptr(&bp_cpu_use[type], cpu)->flex_held & BIT(reg)) !=
			    (held && bp_flexible(map->owner[reg])))
				fail("CPU %d type %d: register %d's flexible mark is wrong",
				     cpu, type, reg);
#ifndef TEST_ARCH_INSTALL
			if (map->owner[reg] != arch_regs[cpu][type][reg])
				fail("CPU %d type %d: register %d: another owner than the arch's",
				     cpu, type, reg);
#endif
		}
	}
	for (i = 0; i < nr; i++) {
		struct hw_breakpoint_regs *map =
			map_of(cpu, type_of(in[i]->attr.bp_type));
		int n = 0;

		for (reg = 0; reg < HW_BREAKPOINT_MAX_REGS; reg++)
			n += map->owner[reg] == in[i];
		if (n != (int)in[i]->attr.bp_len)
			fail("CPU %d: breakpoint %d of weight %d holds %d registers",
			     cpu, in[i]->test_id, (int)in[i]->attr.bp_len, n);
	}
}

void hw_breakpoint_pmu_read(struct perf_event *bp)
{
	(void)bp;
}

int hw_breakpoint_exceptions_notify(struct notifier_block *unused,
				    unsigned long val, void *data)
{
	(void)unused; (void)val; (void)data;
	return 0;
}

static int notifier_fail, pmu_fail;
static bool notifier_registered, pmu_registered;

int register_die_notifier(struct notifier_block *nb)
{
	(void)nb;
	if (notifier_fail)
		return notifier_fail;
	notifier_registered = true;
	return 0;
}

int unregister_die_notifier(struct notifier_block *nb)
{
	(void)nb;
	notifier_registered = false;
	return 0;
}

int perf_pmu_register(struct pmu *pmu, const char *name, int type)
{
	(void)pmu; (void)name; (void)type;
	if (pmu_fail)
		return pmu_fail;
	pmu_registered = true;
	return 0;
}

int perf_swevent_set_period(struct perf_event *event)
{
	(void)event;
	return 0;
}

/* Queued only for moved events, which the walk never makes. */
void perf_pmu_resched(struct pmu *pmu)
{
	(void)pmu;
	assert(!"no moved events in the walk");
}

/* perf's core: an event is made, then its PMU's event_init() runs. */
struct perf_event *perf_event_create_kernel_counter(struct perf_event_attr *attr,
						    int cpu,
						    struct task_struct *task,
						    perf_overflow_handler_t handler,
						    void *context)
{
	struct perf_event *bp = calloc(1, sizeof(*bp));
	int ret;

	(void)handler; (void)context;
	if (!bp)
		return ERR_PTR(-ENOMEM);
	bp->attr = *attr;
	bp->cpu = cpu;
	bp->pmu = &perf_breakpoint;
	bp->pmu_ctx = &bp_pmu_ctx;
	bp->group_leader = test_group_leader ?: bp;
	bp->hw.target = task;
	bp->ctx = task ? &task->ctx : NULL;
	bp->test_id = -1;
	ret = perf_breakpoint.event_init(bp);
	if (ret) {
		free(bp);
		return ERR_PTR(ret);
	}
	return bp;
}

int perf_event_release_kernel(struct perf_event *event)
{
	if (event->destroy)
		event->destroy(event);
	free(event);
	return 0;
}

void perf_event_disable(struct perf_event *event)
{
	(void)event;
	test_might_sleep("perf_event_disable");	/* an IPI and the ctx mutex */
}

void perf_event_disable_local(struct perf_event *event)
{
	if (!event->ctx || event->ctx->task != current)
		fail("%s() of another task's event", __func__);
}

void perf_event_enable(struct perf_event *event)
{
	(void)event;
	test_might_sleep("perf_event_enable");
}

/* === The model === */

struct model_bp {
	struct perf_event	*ev;	/* NULL: free entry */
	int			task;	/* -1: bound to a CPU, no task */
	int			cpu;	/* -1: every CPU (tasks only) */
	int			type;	/* enum bp_type_idx */
	int			weight;
	bool			raw;	/* reserved with dbg_reserve_bp_slot() */
	bool			flex;	/* flexible: its leader not pinned, mode on */
	int			share;	/* the slots it counts for: see model_share() */
};

static struct model_bp model[MAX_BPS];
static int nr_model;
static int nr_tasks;
/* The model's flexible mode: as hw_breakpoint_set_flexible() was told. */
static bool model_flex_mode = true;

static int type_of(u64 bp_type)
{
	return (bp_type & HW_BREAKPOINT_RW) ? TYPE_DATA : TYPE_INST;
}

/*
 * The model's use of the registers, recounted from its list: slots of
 * each type taken on each CPU by the CPU-bound breakpoints (task index 0)
 * and by each task (index task + 1), and which tasks have a breakpoint
 * bound to one CPU. An owner's use on a CPU is the sum of its pinned
 * breakpoints' weights there, plus the largest share of its flexible ones.
 */
struct recount {
	int	use[TYPE_MAX][MAX_TASKS + 1][TEST_NR_CPUS];
	bool	one_cpu[TYPE_MAX][MAX_TASKS];
	int	any_cpu[TYPE_MAX][MAX_TASKS];
	/* The parts: pinned sums and widest flexible weights. */
	int	pinned[TYPE_MAX][MAX_TASKS + 1][TEST_NR_CPUS];
	int	flex[TYPE_MAX][MAX_TASKS + 1][TEST_NR_CPUS];
	int	any_pinned[TYPE_MAX][MAX_TASKS];
	int	any_flex[TYPE_MAX][MAX_TASKS];
};

static void recount_add(int *pinned, int *flex, const struct model_bp *m)
{
	if (m->flex)
		*flex = max(*flex, m->share);
	else
		*pinned += m->weight;
}

static void recount_one(struct recount *rc, const struct model_bp *m)
{
	int cpu, o = m->task + 1;

	if (m->task >= 0 && m->cpu < 0) {
		recount_add(&rc->any_pinned[m->type][m->task],
			    &rc->any_flex[m->type][m->task], m);
		for (cpu = 0; cpu < nr_cpu_ids; cpu++)
			recount_add(&rc->pinned[m->type][o][cpu],
				    &rc->flex[m->type][o][cpu], m);
		return;
	}
	if (m->task >= 0)
		rc->one_cpu[m->type][m->task] = true;
	recount_add(&rc->pinned[m->type][o][m->cpu],
		    &rc->flex[m->type][o][m->cpu], m);
}

/* Leave out model entry @skip; add @extra, if any. */
static void recount(struct recount *rc, int skip, const struct model_bp *extra)
{
	int i, type, o, cpu;

	memset(rc, 0, sizeof(*rc));
	for (i = 0; i < nr_model; i++)
		if (model[i].ev && i != skip)
			recount_one(rc, &model[i]);
	if (extra)
		recount_one(rc, extra);
	for (type = 0; type < TYPE_MAX; type++) {
		for (o = 0; o <= nr_tasks; o++) {
			for (cpu = 0; cpu < nr_cpu_ids; cpu++)
				rc->use[type][o][cpu] = rc->pinned[type][o][cpu] +
							rc->flex[type][o][cpu];
			if (o)
				rc->any_cpu[type][o - 1] =
					rc->any_pinned[type][o - 1] +
					rc->any_flex[type][o - 1];
		}
	}
}

/*
 * The rule, from scratch: on every CPU and for every type, the CPU-bound
 * breakpoints and those of any one task fit in the registers.
 */
static bool model_fits(int skip, const struct model_bp *extra)
{
	static struct recount rc;
	int cpu, type, t, most;

	recount(&rc, skip, extra);
	for (type = 0; type < TYPE_MAX; type++) {
		for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
			most = 0;
			for (t = 1; t <= nr_tasks; t++)
				most = max(most, rc.use[type][t][cpu]);
			if (rc.use[type][0][cpu] + most > nr_slots[type])
				return false;
		}
	}
	return true;
}

static bool model_any(void)
{
	int i;

	for (i = 0; i < nr_model; i++)
		if (model[i].ev)
			return true;
	return false;
}

/*
 * Whether the allocator must count a breakpoint as flexible, given its
 * group leader (NULL: it leads, with @attr): a breakpoint leader, not
 * pinned, and the mode on.
 */
static bool model_flexible(const struct perf_event *leader,
			   const struct perf_event_attr *attr)
{
	if (leader && leader->pmu != &perf_breakpoint)
		return false;
	return model_flex_mode && !(leader ? &leader->attr : attr)->pinned;
}

/*
 * The slots @m counts for, as the rule says: a pinned breakpoint its
 * weight; a flexible one its weight plus those of its group's other
 * breakpoints of its type that exist when it is reserved or modified
 * (entry @self left out), since perf schedules a group all or nothing.
 * The first member counts alone, the last one for the whole group.
 */
static int model_share(const struct model_bp *m,
		       const struct perf_event *leader, int self)
{
	int i, share = m->weight;

	if (!m->flex || !leader)
		return share;
	for (i = 0; i < nr_model; i++) {
		const struct model_bp *o = &model[i];

		if (o->ev && i != self && o->flex && o->type == m->type &&
		    o->task == m->task && o->cpu == m->cpu &&
		    o->ev->group_leader == leader)
			share += o->weight;
	}
	return share;
}

static int model_add(struct perf_event *ev, int task, int cpu, int type,
		     int weight, bool raw)
{
	int i;

	for (i = 0; i < nr_model && model[i].ev; i++)
		;
	if (i == MAX_BPS)
		return -1;
	if (i == nr_model)
		nr_model++;
	model[i] = (struct model_bp){ ev, task, cpu, type, weight, raw,
				      model_flexible(ev->group_leader, NULL) };
	model[i].share = model_share(&model[i], ev->group_leader, i);
	if (bp_flexible(ev) != model[i].flex || bp_weight(ev) != weight ||
	    bp_share(ev) != model[i].share)
		fail("breakpoint %d: flexible %d weight %d share %d, the model says %d, %d and %d",
		     i, bp_flexible(ev), bp_weight(ev), bp_share(ev),
		     model[i].flex, weight, model[i].share);
	ev->test_id = i;
	return i;
}

/* Whether the model has room for @n more entries. */
static bool model_room(int n)
{
	int i, used = 0;

	for (i = 0; i < nr_model; i++)
		used += !!model[i].ev;
	return used + n <= MAX_BPS;
}

static void model_del(int i)
{
	model[i].ev = NULL;
	while (nr_model && !model[nr_model - 1].ev)
		nr_model--;
}

/*
 * Release model entry @i's breakpoint, the way it was reserved, and drop
 * it. A group leader's close first makes each of its members lead itself,
 * as perf_group_detach() does; their shares stay as reserved.
 */
static void model_release(int i)
{
	int j;

	for (j = 0; j < nr_model; j++) {
		if (j != i && model[j].ev &&
		    model[j].ev->group_leader == model[i].ev)
			model[j].ev->group_leader = model[j].ev;
	}
	if (model[i].raw) {
		if (dbg_release_bp_slot(model[i].ev))
			fail("dbg_release_bp_slot() with no lock held");
		free(model[i].ev);
	} else {
		unregister_hw_breakpoint(model[i].ev);
	}
	model_del(i);
}

static int model_pick(void)
{
	int i, n = 0, pick = -1;

	for (i = 0; i < nr_model; i++)
		if (model[i].ev && rnd(++n) == 0)
			pick = i;
	return pick;
}

#ifndef TEST_ARCH_INSTALL
/*
 * An NMI that lands while the core changes this CPU's registers (from
 * the arch's program and move callbacks, one time in eight) and tries to
 * move a watchpoint of this CPU that could otherwise move: it must get
 * -EBUSY, and the watchpoint keep its address.
 */
static void nmi_move(void)
{
	static bool in_nmi_move;
	struct perf_event *ev;
	u64 old;
	int i, got;

	if (in_nmi_move || rnd(8))
		return;
	i = model_pick();
	if (i < 0)
		return;
	ev = model[i].ev;
	if (ev->hw.target || ev->cpu != test_this_cpu ||
	    !(ev->attr.bp_type & HW_BREAKPOINT_RW))
		return;
	old = ev->attr.bp_addr;
	in_nmi_move = true;
	got = modify_local_hw_breakpoint_addr(ev, old ^ 8);
	in_nmi_move = false;
	if (got != -EBUSY || ev->attr.bp_addr != old)
		fail("CPU %d: an NMI's move of %d amid a register change: %d, now at %#llx",
		     test_this_cpu, ev->test_id, got,
		     (unsigned long long)ev->attr.bp_addr);
	stats[ST_MOVE_NMI_BUSY]++;
}
#endif

/* The allocator's histograms must be exactly the recounted ones. */
static void check_hist(const char *what, struct bp_hist *hist, int type,
		       const int *expect)
{
	int i;

	for (i = 0; i < nr_slots[type]; i++) {
		if (atomic_read(&hist->nr[i]) != expect[i])
			fail("%s[type %d] bucket %d: allocator %d, recount %d",
			     what, type, i + 1, atomic_read(&hist->nr[i]),
			     expect[i]);
	}
}

static void check_tables(void)
{
	static struct recount rc;
	int type, cpu, t, i, n;

	recount(&rc, -1, NULL);
	for (type = 0; type < TYPE_MAX; type++) {
		int cpu_hist[16] = { 0 }, any_hist[16] = { 0 };

		for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
			struct bp_cpu_use *use = per_cpu_ptr(&bp_cpu_use[type], cpu);
			int tasks_hist[16] = { 0 };

			n = rc.use[type][0][cpu];
			if (use->cpu_bound != n || use->pinned != rc.pinned[type][0][cpu] ||
			    use->flex_share != rc.flex[type][0][cpu])
				fail("CPU %d type %d: cpu_bound %d (pinned %d), recount %d (%d)",
				     cpu, type, use->cpu_bound, use->pinned, n,
				     rc.pinned[type][0][cpu]);
			if (n)
				cpu_hist[n - 1]++;
			for (t = 0; t < nr_tasks; t++) {
				n = rc.use[type][t + 1][cpu];
				if (rc.one_cpu[type][t] && n)
					tasks_hist[n - 1]++;
			}
			check_hist("cpu tasks", &use->tasks, type, tasks_hist);
		}
		for (t = 0; t < nr_tasks; t++) {
			n = rc.any_cpu[type][t];
			if (!rc.one_cpu[type][t] && n)
				any_hist[n - 1]++;
		}
		check_hist("cpu_bound", &bp_all_cpus[type].cpu_bound, type, cpu_hist);
		check_hist("any_cpu_tasks", &bp_all_cpus[type].any_cpu_tasks, type,
			   any_hist);
	}
	if (hw_breakpoint_is_used() != model_any())
		fail("hw_breakpoint_is_used() %d, the model holds %s",
		     hw_breakpoint_is_used(), model_any() ? "some" : "none");
	if (bp_tables_sem.holders.readers || bp_tables_sem.holders.writer ||
	    cpus_locked)
		fail("a lock left held");
	for (i = 0; i < (int)ARRAY_SIZE(bp_task_locks); i++)
		if (bp_task_locks[i].holders.writer)
			fail("task lock %d left held", i);
}

/* === Operations === */

static u64 random_bp_type(void)
{
	static const u64 types[] = {
		HW_BREAKPOINT_X, HW_BREAKPOINT_W, HW_BREAKPOINT_R,
		HW_BREAKPOINT_RW,
	};

	return types[rnd(ARRAY_SIZE(types))];
}

/* A weight that usually fits, sometimes not. */
static u64 random_len(int type)
{
	int most = max(nr_slots[type], 1);

	return chance(8) ? 1 + rnd(8) : 1 + rnd(chance(3) ? most : 1);
}

static void random_attr(struct perf_event_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->type = PERF_TYPE_BREAKPOINT;
	attr->size = sizeof(*attr);
	attr->bp_type = random_bp_type();
	attr->bp_len = random_len(type_of(attr->bp_type));
	attr->bp_addr = USER_ADDR + 8 * rnd(64);
	/* Flexible ones often, so that their shares meet pinned ones. */
	attr->pinned = chance(2);
}

/*
 * The answer bp_event_init() owes @attr for a breakpoint of @task on
 * @cpu in @leader's group (NULL: its own): an errno for what is invalid,
 * else the fit.
 */
static int expected_create(const struct perf_event_attr *attr, int task,
			   int cpu, const struct perf_event *leader)
{
	struct model_bp m = {
		.task = task, .cpu = cpu, .type = type_of(attr->bp_type),
		.weight = (int)attr->bp_len,
		.flex = model_flexible(leader, attr),
	};

	m.share = model_share(&m, leader, -1);
	if (attr->type != PERF_TYPE_BREAKPOINT)
		return -ENOENT;
	if (task < 0 && cpu < 0)
		return -EINVAL;
	if (!attr->bp_type || (attr->bp_type & ~(u64)HW_BREAKPOINT_INVALID) ||
	    ((attr->bp_type & HW_BREAKPOINT_X) && (attr->bp_type & HW_BREAKPOINT_RW)))
		return -EINVAL;
	/*
	 * A kind of register the CPU lacks, before the arch looks: powerpc's
	 * parse would refuse an execute breakpoint with -EINVAL.
	 */
	if (!nr_slots[m.type])
		return -EOPNOTSUPP;
	if (!attr->bp_len || attr->bp_len > 8)
		return -EINVAL;
	if (attr->bp_addr >= KERNEL_BASE) {
		if (attr->exclude_kernel)
			return -EINVAL;
		if (!is_admin)
			return -EPERM;
	}
	return model_fits(-1, &m) ? 0 : -ENOSPC;
}

/* Now and then an invalid request: each must get its errno and no slot. */
static void spoil_attr(struct perf_event_attr *attr, int *task, int *cpu)
{
	switch (rnd(8)) {
	case 0:
		attr->type = PERF_TYPE_SOFTWARE;
		break;
	case 1:
		attr->bp_type = 0;
		break;
	case 2:
		attr->bp_type = HW_BREAKPOINT_X | HW_BREAKPOINT_W;
		break;
	case 3:
		attr->bp_type |= 0x10;
		break;
	case 4:
		attr->bp_len = chance(2) ? 0 : 9;
		break;
	case 5:
		attr->bp_addr = KERNEL_BASE + 64;
		attr->exclude_kernel = 1;
		break;
	case 6:
		attr->bp_addr = KERNEL_BASE + 64;	/* EPERM if not admin */
		break;
	default:
		*task = -1;
		*cpu = -1;
		break;
	}
}

static int random_target(int *task, int *cpu)
{
	int kind = rnd(3);

	*task = kind == 0 ? -1 : (int)rnd(nr_tasks);
	*cpu = kind == 1 ? -1 : (int)rnd(nr_cpu_ids);
	return kind;
}

/*
 * A group for a new breakpoint of @task on @cpu to join, now and then:
 * the group of a breakpoint perf made with the same owner, or another
 * PMU's leader, or NULL.
 */
static struct perf_event *random_group(int task, int cpu)
{
	int i, n = 0;
	struct perf_event *leader = NULL;

	if (!chance(3))
		return NULL;
	if (chance(4)) {
		foreign_leader.attr.pinned = chance(2);
		return &foreign_leader;
	}
	for (i = 0; i < nr_model; i++) {
		if (model[i].ev && !model[i].raw && model[i].task == task &&
		    model[i].cpu == cpu && rnd(++n) == 0)
			leader = model[i].ev->group_leader;
	}
	return leader;
}

static void op_create(void)
{
	struct perf_event_attr attr;
	struct perf_event *ev, *leader;
	int task, cpu, expect, got;
	bool flex;

	random_attr(&attr);
	random_target(&task, &cpu);
	leader = random_group(task, cpu);
	if (leader)
		attr.pinned = 0;	/* perf refuses pinned members */
	if (chance(10))
		spoil_attr(&attr, &task, &cpu);
	is_admin = !chance(4);
	insert_fail_rate = 50;
	expect = expected_create(&attr, task, cpu, leader);
	flex = model_flexible(leader, &attr);
	test_group_leader = leader;

	if (task >= 0 && cpu < 0 && chance(2)) {
		ev = register_user_hw_breakpoint(&attr, NULL, NULL, &tasks[task]);
	} else {
		ev = perf_event_create_kernel_counter(&attr, cpu,
						      task >= 0 ? &tasks[task] : NULL,
						      NULL, NULL);
	}
	insert_fail_rate = 0;
	test_group_leader = NULL;
	is_admin = true;
	got = PTR_ERR_OR_ZERO(ev);

	/*
	 * The injected insertion failure: a breakpoint that fit and goes in
	 * the table, a task's or a flexible one.
	 */
	if (got == -ENOMEM && expect == 0 && (task >= 0 || flex)) {
		stats[ST_CREATE_NOMEM]++;
		return;
	}
	if (got != expect) {
		fail("create type %llu len %llu task %d cpu %d: got %d, expected %d",
		     (unsigned long long)attr.bp_type,
		     (unsigned long long)attr.bp_len, task, cpu, got, expect);
		if (!got)
			unregister_hw_breakpoint(ev);
		return;
	}
	stats[!got ? ST_CREATE_OK : got == -ENOSPC ? ST_CREATE_NOSPC :
	      ST_CREATE_INVAL]++;
	if (!got && leader)
		stats[ST_CREATE_GROUPED]++;
	if (!got && model_add(ev, task, cpu, type_of(attr.bp_type),
			      (int)attr.bp_len, false) < 0)
		unregister_hw_breakpoint(ev);
}

static void op_release(void)
{
	int i = model_pick();

	if (i < 0)
		return;
	model_release(i);
	stats[ST_RELEASE]++;
}

static void op_modify(void)
{
	struct perf_event_attr attr;
	struct model_bp m;
	int i = model_pick(), expect, got, mode = rnd(3);

	if (i < 0 || model[i].raw || model[i].task < 0)
		return;
	m = model[i];
	attr = m.ev->attr;
	attr.bp_type = chance(2) ? random_bp_type() : attr.bp_type;
	attr.bp_len = chance(2) ? random_len(type_of(attr.bp_type)) : attr.bp_len;
	attr.bp_addr = USER_ADDR + 8 * rnd(64);
	attr.disabled = mode == 2 ? 1 : attr.disabled;
	if (chance(10))
		attr.bp_len = 9;		/* refused by the arch */
	if (mode == 1 && chance(4))
		attr.sample_period = 7;		/* not changeable: -EINVAL */

	m.type = type_of(attr.bp_type);
	m.weight = (int)attr.bp_len;
	/* Same slots: nothing is recounted, the share stays (bp_modify()). */
	if (m.type != model[i].type || m.weight != model[i].weight)
		m.share = model_share(&m, m.ev->group_leader, i);
	if (attr.bp_len > 8 || (mode == 1 && attr.sample_period != m.ev->attr.sample_period))
		expect = -EINVAL;
	else if (!nr_slots[m.type])
		expect = -ENOSPC;
	else
		expect = model_fits(i, &m) ? 0 : -ENOSPC;

	if (mode == 2)
		got = modify_user_hw_breakpoint(m.ev, &attr);
	else
		got = modify_user_hw_breakpoint_check(m.ev, &attr, mode == 1);
	if (got != expect) {
		fail("modify %d: type %d w %d -> type %d w %d (check %d): got %d, expected %d",
		     i, model[i].type, model[i].weight, m.type, m.weight,
		     mode == 1, got, expect);
		return;
	}
	stats[!got ? (m.type != model[i].type || m.weight != model[i].weight ?
		      ST_MODIFY_MOVED : ST_MODIFY_OK) :
	      got == -ENOSPC ? ST_MODIFY_NOSPC : ST_MODIFY_INVAL]++;
	if (got)
		return;
	model[i].type = m.type;
	model[i].weight = m.weight;
	model[i].share = m.share;
	if (bp_weight(m.ev) != m.weight || bp_share(m.ev) != m.share)
		fail("modify %d: weight %d share %d, the model says %d and %d",
		     i, bp_weight(m.ev), bp_share(m.ev), m.weight, m.share);
	if (m.ev->attr.bp_type != attr.bp_type || m.ev->attr.bp_len != attr.bp_len ||
	    m.ev->attr.bp_addr != attr.bp_addr || m.ev->hw.info.address != attr.bp_addr)
		fail("modify %d: the new attr was not committed", i);
}

/*
 * ptrace's overflow handler on powerpc, sh and loongarch: the current
 * task disables its own breakpoint, interrupts off. No slot moves, so no
 * lock may be taken.
 */
static void op_modify_irqs_off(void)
{
	struct perf_event_attr attr;
	int i = model_pick(), got;

	if (i < 0 || model[i].raw || model[i].task < 0)
		return;
	attr = model[i].ev->attr;
	attr.disabled = 1;
	attr.bp_addr = USER_ADDR + 8 * rnd(64);
	test_current = &tasks[model[i].task];
	irqs_off = true;
	got = modify_user_hw_breakpoint(model[i].ev, &attr);
	irqs_off = false;
	test_current = NULL;
	if (got)
		fail("modify with interrupts off, type and weight unchanged: %d", got);
	stats[ST_MODIFY_IRQS_OFF]++;
}

static void op_wide(void)
{
	struct perf_event *__percpu *events;
	struct perf_event_attr attr;
	int cpu, n = 0, got, expect = 0;
	struct model_bp m[TEST_NR_CPUS];

	random_attr(&attr);
	/* The model must hold every CPU's, or it loses track of them. */
	if (!nr_slots[type_of(attr.bp_type)] ||
	    !model_room(hweight_long(test_online_mask.bits)))
		return;
	/* Each online CPU gets one, in order; all must fit for success. */
	for_each_online_cpu(cpu) {
		m[n] = (struct model_bp){ NULL, -1, cpu, type_of(attr.bp_type),
					  (int)attr.bp_len, false,
					  model_flexible(NULL, &attr),
					  (int)attr.bp_len };
		if (!model_fits(-1, &m[n]))
			expect = -ENOSPC;
		n++;
	}
	alloc_fail_rate = 40;
	events = register_wide_hw_breakpoint(&attr, NULL, NULL);
	alloc_fail_rate = 0;
	got = PTR_ERR_OR_ZERO((void __force *)events);
	if (got == -ENOMEM)
		return;			/* injected: nothing may be left */
	if (got != expect) {
		fail("register_wide_hw_breakpoint(): got %d, expected %d", got, expect);
		if (!got)
			unregister_wide_hw_breakpoint(events);
		return;
	}
	stats[got ? ST_WIDE_NOSPC : ST_WIDE_OK]++;
	if (got)
		return;
	for_each_possible_cpu(cpu) {
		struct perf_event *bp = *per_cpu_ptr(events, cpu);
		bool online = test_online_mask.bits & (1UL << cpu);

		if (!!bp != online)
			fail("wide breakpoint on CPU %d: %s event", cpu,
			     bp ? "an offline CPU has an" : "an online CPU has no");
	}
	/* Counted as CPU-bound breakpoints; released together or singly. */
	for_each_online_cpu(cpu)
		model_add(*per_cpu_ptr(events, cpu), -1, cpu,
			  type_of(attr.bp_type), (int)attr.bp_len, false);
	check_tables();
	if (chance(2)) {
		for_each_online_cpu(cpu)
			model_del((*per_cpu_ptr(events, cpu))->test_id);
		unregister_wide_hw_breakpoint(events);
	} else {
		free_percpu(events);
	}
}

/*
 * register_wide_hw_breakpoint_hotplug(): all or nothing on the online
 * CPUs, as register_wide_hw_breakpoint(); then CPUs go down and come up
 * four times: a CPU going down loses its event (its slots recounted
 * free), one coming up gets one exactly when the model says it fits, and
 * comes up without it otherwise; unregistering leaves nothing.
 */
static void op_wide_hotplug(void)
{
	struct perf_event *__percpu *events;
	struct perf_event_attr attr;
	int cpu, got, expect = 0, round, type;
	struct model_bp m;

	random_attr(&attr);
	type = type_of(attr.bp_type);
	if (!nr_slots[type] || !model_room(nr_cpu_ids))
		return;
	m = (struct model_bp){ NULL, -1, 0, type, (int)attr.bp_len, false,
			       model_flexible(NULL, &attr), (int)attr.bp_len };
	for_each_online_cpu(cpu) {
		m.cpu = cpu;
		if (!model_fits(-1, &m))
			expect = -ENOSPC;
	}
	events = register_wide_hw_breakpoint_hotplug(&attr, NULL, NULL);
	got = PTR_ERR_OR_ZERO((void __force *)events);
	if (got != expect) {
		fail("register_wide_hw_breakpoint_hotplug(): got %d, expected %d",
		     got, expect);
		if (!got)
			unregister_wide_hw_breakpoint_hotplug(events);
		return;
	}
	if (got)
		return;
	stats[ST_HP_WIDE]++;
	for_each_possible_cpu(cpu) {
		struct perf_event *bp = *per_cpu_ptr(events, cpu);

		if (!!bp != !!(test_online_mask.bits & (1UL << cpu)))
			fail("hotplug wide breakpoint on CPU %d: %s", cpu,
			     bp ? "an offline CPU has an event" :
			     "an online CPU has none");
		if (bp)
			model_add(bp, -1, cpu, type, (int)attr.bp_len, false);
	}
	check_tables();

	for (round = 0; round < 4 && nr_cpu_ids > 1; round++) {
		struct perf_event *now;
		bool up, fits;
		int old;

		cpu = 1 + rnd(nr_cpu_ids - 1);
		up = !(test_online_mask.bits & (1UL << cpu));
		/* Its model entry: the callback frees the event. */
		now = *per_cpu_ptr(events, cpu);
		old = now ? now->test_id : -1;
		m.cpu = cpu;
		fits = up && model_fits(-1, &m);
		test_cpu_toggle(cpu);
		now = *per_cpu_ptr(events, cpu);
		if (!up) {
			if (now)
				fail("CPU %d went down and keeps its event", cpu);
			if (old >= 0)
				model_del(old);
			stats[ST_HP_DOWN]++;
		} else {
			if (!!now != fits)
				fail("CPU %d came up %s its event; the model says it %s",
				     cpu, now ? "with" : "without",
				     fits ? "fits" : "does not fit");
			if (now)
				model_add(now, -1, cpu, type, (int)attr.bp_len,
					  false);
			stats[now ? ST_HP_UP : ST_HP_UP_NOSPC]++;
		}
		check_tables();
	}

	for_each_possible_cpu(cpu) {
		struct perf_event *bp = *per_cpu_ptr(events, cpu);

		if (bp)
			model_del(bp->test_id);
	}
	unregister_wide_hw_breakpoint_hotplug(events);
	check_tables();
}

static void op_dbg(void)
{
	struct perf_event *bp = calloc(1, sizeof(*bp));
	int task, cpu, expect, got, busy = 0;
	struct mutex *held = NULL;

	if (!bp)
		return;
	random_attr(&bp->attr);
	do {
		random_target(&task, &cpu);
	} while (task < 0 && cpu < 0);
	bp->cpu = cpu;
	bp->pmu = &perf_breakpoint;
	bp->pmu_ctx = &bp_pmu_ctx;
	bp->group_leader = bp;
	bp->hw.target = task >= 0 ? &tasks[task] : NULL;
	bp->test_id = -1;
	{
		struct model_bp m = { bp, task, cpu, type_of(bp->attr.bp_type),
				      (int)bp->attr.bp_len, true,
				      model_flexible(NULL, &bp->attr),
				      (int)bp->attr.bp_len };

		expect = model_fits(-1, &m) ? 0 : -ENOSPC;
	}
	/*
	 * A CPU stopped half way through changing the tables: the write
	 * lock makes everyone busy, a task lock that task's breakpoints, a
	 * read lock the CPU-bound ones.
	 */
	if (chance(4)) {
		busy = 1 + rnd(3);
		if (busy == 1)
			bp_tables_sem.holders.writer = 1;
		else if (busy == 2 && task >= 0)
			held = bp_task_lock(bp->hw.target);
		else
			bp_tables_sem.holders.readers++;
		if (held)
			held->holders.writer = 1;
		if (busy == 1 || held || task < 0)
			expect = -EBUSY;
	}
	got = dbg_reserve_bp_slot(bp);
	if (busy == 1)
		bp_tables_sem.holders.writer = 0;
	else if (held)
		held->holders.writer = 0;
	else if (busy)
		bp_tables_sem.holders.readers--;
	if (got != expect) {
		fail("dbg_reserve_bp_slot() task %d cpu %d: got %d, expected %d",
		     task, cpu, got, expect);
		if (!got)
			dbg_release_bp_slot(bp);
		free(bp);
		return;
	}
	stats[!got ? ST_DBG_OK : got == -EBUSY ? ST_DBG_BUSY : ST_DBG_NOSPC]++;
	if (got || model_add(bp, task, cpu, type_of(bp->attr.bp_type),
			     (int)bp->attr.bp_len, true) < 0) {
		if (!got)
			dbg_release_bp_slot(bp);
		free(bp);
	}
}

/*
 * Turn flexible mode off (sometimes after releasing every flexible
 * breakpoint, so that it can succeed) or on again.
 */
static void op_mode(void)
{
	bool on = chance(2), any = false;
	int i, got, expect;

	if (!on && chance(4)) {
		for (i = 0; i < nr_model; i++) {
			if (model[i].ev && model[i].flex) {
				model_release(i);
				stats[ST_RELEASE]++;
			}
		}
	}
	for (i = 0; i < nr_model; i++)
		any |= model[i].ev && model[i].flex;
	expect = !on && any ? -EBUSY : 0;
	got = hw_breakpoint_set_flexible(on);
	if (got != expect)
		fail("flexible mode %d: got %d, expected %d", on, got, expect);
	if (got)
		stats[ST_FLEX_BUSY]++;
	else if (!on && model_flex_mode)
		stats[ST_FLEX_OFF]++;
	if (!got)
		model_flex_mode = on;
}

/*
 * group_sched_in() for @leader's members among @list[0..@n): add each,
 * appending those that went in to @in; when one fails, take back the
 * ones added. Every pinned add must succeed, and so must a flexible
 * group's whose types no group before it in this pass has tried (@tried).
 * Returns whether the group went in whole.
 */
static bool sched_group(struct perf_event *leader, struct perf_event **list,
			int n, struct perf_event **in, int *nr_in, bool flex,
			bool *tried, int cpu, int owner)
{
	bool fresh = true;
	int i, first = *nr_in, ret, members = 0;

	for (i = 0; i < n; i++) {
		if (list[i]->group_leader == leader)
			fresh &= !tried[type_of(list[i]->attr.bp_type)];
	}
	for (i = 0; i < n; i++) {
		struct perf_event *ev = list[i];

		if (ev->group_leader != leader)
			continue;
		tried[type_of(ev->attr.bp_type)] = true;
		members++;
		ret = perf_breakpoint.add(ev, PERF_EF_START);
		if (!ret) {
			in[(*nr_in)++] = ev;
			continue;
		}
		if (!flex)
			fail("CPU %d: pinned breakpoint %d refused: %d", cpu,
			     ev->test_id, ret);
		if (fresh)
			fail("CPU %d: flexible %d refused at the head (owner %d, group of %d)",
			     cpu, ev->test_id, owner, leader->test_id);
		stats[ST_SCHED_FLEX_BUSY]++;
		while (*nr_in > first)
			perf_breakpoint.del(in[--(*nr_in)], 0);
		return false;
	}
	if (flex && members > 1)
		stats[ST_SCHED_GROUP]++;
	return true;
}

/*
 * modify_local_hw_breakpoint_addr() on an event, from @cpu, to a
 * new address on the same side of the user/kernel boundary or, one time
 * in four, on the other; one time in four as if user space owned the
 * event. A CPU-bound data watchpoint of this CPU moves: its attr holds
 * the new address and the arch reprograms each register it holds once,
 * with the piece it was installed with (the lowest register the first
 * piece), and no other. Anything else is refused with -EINVAL (an arch
 * that installs by itself: -EOPNOTSUPP) and changes nothing.
 */
static void try_move(int cpu, struct perf_event *ev)
{
	u64 old = ev->attr.bp_addr;
	bool kernel = old >= KERNEL_BASE, cross = !rnd(4), user = !rnd(4);
	u64 addr = (kernel != cross ? KERNEL_BASE : USER_ADDR) + 8 * rnd(64);
	int reg, piece = 0, got, expect, type = type_of(ev->attr.bp_type);

	expect = !ev->hw.target && ev->cpu == cpu && !cross && !user &&
		 (ev->attr.bp_type & HW_BREAKPOINT_RW) ? 0 : -EINVAL;
#ifdef TEST_ARCH_INSTALL
	expect = -EOPNOTSUPP;
#endif
	for (reg = 0; reg < HW_BREAKPOINT_MAX_REGS; reg++)
		moved_piece[reg] = -1;
	moving = ev;
	nr_moved = 0;
	ev->test_user = user;
	got = modify_local_hw_breakpoint_addr(ev, addr);
	ev->test_user = false;
	moving = NULL;
	if (got != expect)
		fail("CPU %d: move of %d (task %d, CPU %d, type %llu%s%s) to %#llx: %d, not %d",
		     cpu, ev->test_id, ev->hw.target ? ev->hw.target->id : -1,
		     ev->cpu, (unsigned long long)ev->attr.bp_type,
		     user ? ", user-owned" : "", cross ? ", across" : "",
		     (unsigned long long)addr, got, expect);
	if (ev->attr.bp_addr != (got ? old : addr))
		fail("CPU %d: %d watches %#llx after a move to %#llx that returned %d",
		     cpu, ev->test_id, (unsigned long long)ev->attr.bp_addr,
		     (unsigned long long)addr, got);
	for (reg = 0; reg < HW_BREAKPOINT_MAX_REGS; reg++) {
		bool mine = !got && map_of(cpu, type)->owner[reg] == ev;
		int want = mine ? piece++ : -1;

		if (moved_piece[reg] != want)
			fail("CPU %d: register %d of type %d moved as piece %d of %d, expected %d",
			     cpu, reg, type, moved_piece[reg], ev->test_id, want);
	}
	if (nr_moved != piece)
		fail("CPU %d: %d moved in %d registers, holds %d",
		     cpu, ev->test_id, nr_moved, piece);
	stats[got ? ST_MOVE_INVAL : ST_MOVED]++;
}

/*
 * Each event scheduled on @cpu, then one of any owner, installed or not
 * (another CPU's, say: refused; a CPU-bound one here not scheduled: it
 * moves, with no register to reprogram).
 */
static void try_moves(int cpu, struct perf_event **in, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		try_move(cpu, in[i]);
	i = model_pick();
	if (i >= 0)
		try_move(cpu, model[i].ev);
}

/*
 * perf scheduling one CPU in, as ctx_sched_in() orders it: the CPU's own
 * pinned breakpoints, the running task's pinned ones, then the CPU's
 * flexible ones and the task's, each list of groups from a rotation's
 * random head. A group goes in whole or not at all (sched_group()), and
 * not at all if its leader is disabled. The first flexible group an
 * owner tries of each type goes in whole (rotation brings each to the
 * head in turn, so none starves, groups included); the arch's registers
 * are never asked for more than they have. Then everything is scheduled
 * out, and the allocator's per-CPU counts of installed registers must be
 * back at zero.
 */
static void op_schedule(void)
{
	static struct perf_event *list[MAX_BPS], *in[MAX_BPS], *lead[MAX_BPS];
	int cpu = rnd(nr_cpu_ids), task = rnd(nr_tasks);
	int pass, i, k, n, nr_lead, head, nr_in = 0, type;

	test_this_cpu = cpu;
	irqs_off = true;
	for (pass = 0; pass < 4; pass++) {
		bool flex = pass >= 2, tried[TYPE_MAX] = { false };
		int owner = pass % 2 ? task : -1;

		n = 0;
		nr_lead = 0;
		for (i = 0; i < nr_model; i++) {
			const struct model_bp *m = &model[i];

			/* kgdb's own are installed by kgdb, not perf. */
			if (!m->ev || m->raw || m->flex != flex ||
			    m->task != owner || (m->cpu >= 0 && m->cpu != cpu) ||
			    m->ev->attr.disabled)
				continue;
			list[n++] = m->ev;
			for (k = 0; k < nr_lead && lead[k] != m->ev->group_leader; k++)
				;
			if (k == nr_lead)
				lead[nr_lead++] = m->ev->group_leader;
		}
		head = nr_lead ? (int)rnd(nr_lead) : 0;
		for (k = 0; k < nr_lead; k++) {
			struct perf_event *leader = lead[(head + k) % nr_lead];

			if (!leader->attr.disabled)
				sched_group(leader, list, n, in, &nr_in, flex,
					    tried, cpu, owner);
		}
	}
	check_map(cpu, in, nr_in);
	try_moves(cpu, in, nr_in);
	check_map(cpu, in, nr_in);
	while (nr_in) {
		perf_breakpoint.del(in[--nr_in], 0);
		check_map(cpu, in, nr_in);
	}
	for (type = 0; type < TYPE_MAX; type++) {
		struct bp_cpu_use *use = per_cpu_ptr(&bp_cpu_use[type], cpu);

		if (map_of(cpu, type)->held || use->flex_held ||
		    use->flex_installed || regs_used[cpu][type])
			fail("CPU %d type %d: map %#lx (flexible %#lx, %d) after all were removed",
			     cpu, type, map_of(cpu, type)->held, use->flex_held,
			     use->flex_installed);
	}
	irqs_off = false;
	stats[ST_SCHED]++;
}

/* === Setup, the walk, and the cases it cannot reach === */

struct machine {
	const char	*name;
	int		cpus;
	int		inst, data;	/* registers; data unused when mixed */
};

static void machine_up(const struct machine *mc)
{
	int t, ret;

	nr_cpu_ids = mc->cpus;
	test_possible_mask.bits = mc->cpus == 64 ? ~0UL : (1UL << mc->cpus) - 1;
	test_online_mask = test_possible_mask;
	nr_slots[TYPE_INST] = mc->inst;
	if (TYPE_MAX > 1)
		nr_slots[TYPE_DATA] = mc->data;
	nr_tasks = MAX_TASKS;
	for (t = 0; t < MAX_TASKS; t++) {
		tasks[t].id = t;
		tasks[t].ctx.task = &tasks[t];
	}
	percpu_reset();
	memset(bp_all_cpus, 0, sizeof(bp_all_cpus));
	ret = init_hw_breakpoint();
	if (ret)
		fail("init_hw_breakpoint() on %s: %d", mc->name, ret);
	if (hw_breakpoint_set_flexible(true))
		fail("flexible mode on refused");
	model_flex_mode = true;
}

static void machine_down(void)
{
	while (nr_model) {
		int i = nr_model - 1;

		if (model[i].ev)
			model_release(i);
		else
			model_del(i);
	}
	check_tables();
	bp_tables_ready = false;
	unregister_die_notifier(&hw_breakpoint_exceptions_nb);
	rhltable_destroy(&bp_task_table);
	bp_tables_free();
	if (nr_allocs_live)
		fail("%lu allocations of the allocator left after teardown",
		     nr_allocs_live);
}

/*
 * init_hw_breakpoint() with its n-th allocation failing, for every n, and
 * with the notifier and the PMU refused: an error, and nothing left.
 */
static void test_init_unwind(const struct machine *mc)
{
	int n, ret, step_fail;

	nr_cpu_ids = mc->cpus;
	test_possible_mask.bits = mc->cpus == 64 ? ~0UL : (1UL << mc->cpus) - 1;
	nr_slots[TYPE_INST] = mc->inst;
	if (TYPE_MAX > 1)
		nr_slots[TYPE_DATA] = mc->data;
	percpu_reset();
	for (step_fail = 0; step_fail < 3; step_fail++) {
		notifier_fail = step_fail == 1 ? -ENOMEM : 0;
		pmu_fail = step_fail == 2 ? -EBUSY : 0;
		ret = init_hw_breakpoint();
		if (ret != (step_fail == 1 ? -ENOMEM : -EBUSY) && step_fail)
			fail("init with step %d refused: %d", step_fail, ret);
		if (!step_fail) {
			if (ret)
				fail("init_hw_breakpoint(): %d", ret);
			bp_tables_ready = false;
			unregister_die_notifier(&hw_breakpoint_exceptions_nb);
			rhltable_destroy(&bp_task_table);
			bp_tables_free();
		}
		if (nr_allocs_live || notifier_registered || bp_tables_ready ||
		    (step_fail && pmu_registered))
			fail("init unwind (step %d): %lu allocations, notifier %d, ready %d",
			     step_fail, nr_allocs_live, notifier_registered,
			     bp_tables_ready);
		pmu_registered = false;
	}
	notifier_fail = 0;
	pmu_fail = 0;

	/* The n-th allocation fails: ENOMEM, nothing kept. */
	for (n = 0; n < 3 * (1 + TYPE_MAX * (2 + mc->cpus)); n++) {
		unsigned long live = nr_allocs_live;
		int k = 0;

		fail_nth = n + 1;
		ret = init_hw_breakpoint();
		k = fail_nth;
		fail_nth = 0;
		if (ret == 0) {
			if (k)
				break;	/* fewer allocations than n: done */
			fail("init with allocation %d failing succeeded", n + 1);
		}
		if (ret != -ENOMEM || nr_allocs_live != live || bp_tables_ready)
			fail("init with allocation %d failing: %d, %lu allocations kept",
			     n + 1, ret, nr_allocs_live - live);
	}
	if (bp_tables_ready) {
		bp_tables_ready = false;
		unregister_die_notifier(&hw_breakpoint_exceptions_nb);
		rhltable_destroy(&bp_task_table);
		bp_tables_free();
	}
}

static void walk(const struct machine *mc, unsigned long long ops)
{
	unsigned long long i;
	unsigned int r;

	machine_up(mc);
	for (i = 0; i < ops; i++) {
		step++;
		r = rnd(100);
		if (r < 36)
			op_create();
		else if (r < 64)
			op_release();
		else if (r < 84)
			op_modify();
		else if (r < 88)
			op_modify_irqs_off();
		else if (r < 91)
			op_wide();
		else if (r < 95)
			op_dbg();
		else if (r < 96)
			op_mode();
		else if (r < 98)
			op_schedule();
		else if (r < 99)
			op_wide_hotplug();
		else if (mc->cpus > 1)	/* a CPU goes away or comes back */
			test_cpu_toggle(1 + rnd(mc->cpus - 1));
		check_tables();
	}
	machine_down();
}

static const struct machine machines[] = {
#ifdef TEST_MIXED_REGS
	{ "x86-like: 4 shared registers, 4 CPUs", 4, 4, 0 },
	{ "4 shared registers, 64 CPUs", 64, 4, 0 },
	{ "sh-like: 1 shared register, 2 CPUs", 2, 1, 0 },
	{ "2 shared registers, 1 CPU", 1, 2, 0 },
#else
	{ "arm64-like: 6 breakpoints, 4 watchpoints, 4 CPUs", 4, 6, 4 },
	{ "6/4 registers, 64 CPUs", 64, 6, 4 },
	{ "2 breakpoints, 1 watchpoint, 3 CPUs", 3, 2, 1 },
	{ "no breakpoints, 2 watchpoints, 2 CPUs", 2, 0, 2 },
#endif
};

int main(int argc, char **argv)
{
	unsigned long long ops = 1000000;
	unsigned int m;
	int opt;

	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			ops = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-n ops]\n", argv[0]);
			return 2;
		}
	}
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	test_quiet = true;	/* init_hw_breakpoint()'s pr_info() */
	for (m = 0; m < ARRAY_SIZE(machines); m++) {
		test_init_unwind(&machines[m]);
		walk(&machines[m], ops / ARRAY_SIZE(machines));
	}
	printf("%s: %llu operations on %zu machines, seed %llu: %s\n",
	       argv[0], step, ARRAY_SIZE(machines), seed,
	       failures ? "FAILED" : "ok");
	for (m = 0; m < ST_MAX; m++) {
		bool unreachable = false;

#ifdef TEST_ARCH_INSTALL
		/* Such an arch has no arch_hw_breakpoint_move(). */
		unreachable = m == ST_MOVED || m == ST_MOVE_NMI_BUSY;
#endif
		printf("  %-40s %llu\n", stat_name[m], stats[m]);
		if (!stats[m] && !unreachable && ops >= 100000 && !failures) {
			printf("  (an outcome the walk never reached)\n");
			failures++;
		}
	}
	return failures ? 1 : 0;
}
