/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the hardware-breakpoint slot allocator, shared by
 * kernel/events/hw_breakpoint.c (its only include) and its KUnit suite.
 * See Documentation/dev-tools/hw-breakpoint.rst.
 */
#ifndef _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H
#define _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bitfield.h>
#include <linux/capability.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/hash.h>
#include <linux/hw_breakpoint.h>
#include <linux/init.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kcsan-checks.h>
#include <linux/kdebug.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/percpu-rwsem.h>
#include <linux/percpu.h>
#include <linux/perf_event.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * Slots one breakpoint takes. Visible to the KUnit suite, which stubs it
 * (KUNIT_STATIC_STUB_REDIRECT) to model breakpoints wider than one
 * register; elsewhere a static function of the allocator.
 */
int hw_breakpoint_weight(const struct perf_event_attr *attr);
/* Flexible mode on or off: test_flexible() flips it. */
int hw_breakpoint_set_flexible(bool on);
#endif

#endif /* _KERNEL_EVENTS_HW_BREAKPOINT_INTERNAL_H */
