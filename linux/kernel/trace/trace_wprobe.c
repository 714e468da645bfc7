// SPDX-License-Identifier: GPL-2.0
/*
 * Watch probes: dynamic trace events on data accesses.
 *
 * A watch probe is a wide kernel watchpoint that records a trace event
 * (or a perf sample) each time a CPU reads or writes the memory it
 * watches. It is defined through the dynamic_events file:
 *
 *	w:[GROUP/][EVENT] [r|w|rw]@<ADDRESS|SYMBOL[+|-OFFSET]>[:LENGTH] [ARGS]
 *
 * The watchpoint is created on every CPU when the event is first enabled
 * (by ftrace or perf) and follows CPU hotplug while it exists; it is
 * released when the event is last disabled, so a defined but disabled
 * watch probe holds no debug register. Documentation/trace/wprobetrace.rst
 * describes the interface.
 *
 * Locking: event_mutex serialises registration, removal, enabling and
 * disabling (the dyn_event free and trace_event reg callbacks run under
 * it; creation takes it to register), and so guards the writes of
 * trace_wprobe::bps, which set_wprobe reads without it (see
 * wprobe_trigger()). The hit handler runs in the debug exception with
 * interrupts off; it reaches the event's files through the RCU list
 * trace_probe_add_file() maintains, and the watchpoints are unregistered
 * (no handler running or to come) before the last file goes.
 *
 * Arming takes the CPU contexts' perf mutexes (cpuctx_mutex, a lockdep
 * class of its own) under event_mutex; perf takes event_mutex under a
 * task context's mutex (perf_trace_destroy() at task exit), never under a
 * CPU context's, so the two orders do not meet.
 */
#define pr_fmt(fmt)	"trace_wprobe: " fmt

#include <linux/ctype.h>
#include <linux/hw_breakpoint.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/perf_event.h>
#include <linux/rculist.h>
#include <linux/security.h>
#include <linux/uaccess.h>

#include "trace_dynevent.h"
#include "trace_probe.h"
#include "trace_probe_kernel.h"
#include "trace_probe_tmpl.h"

#define WPROBE_EVENT_SYSTEM	"wprobes"
#define WPROBE_DEFAULT_LEN	4

struct trace_wprobe {
	struct dyn_event	devent;
	/* The watchpoint on every CPU while the event is enabled, else NULL. */
	struct perf_event * __percpu *bps;
	/* The module whose memory is watched, held while the probe exists. */
	struct module		*mod;
	/* The location as it was written, for match(). */
	const char		*spec;
	/* The symbol the address came from, or NULL for a plain address. */
	const char		*symbol;
	long			offset;
	unsigned long		addr;
	unsigned int		len;
	unsigned int		type;	/* HW_BREAKPOINT_R, _W or _RW */
	struct trace_probe	tp;	/* last: ends with the arguments */
};

/* What the ring buffer (and perf) get for a hit, before the arguments. */
struct wprobe_trace_entry_head {
	struct trace_entry	ent;
	unsigned long		ip;	/* the instruction that made the access */
};

static int trace_wprobe_create(const char *raw_command);
static int trace_wprobe_show(struct seq_file *m, struct dyn_event *ev);
static int trace_wprobe_release(struct dyn_event *ev);
static bool trace_wprobe_is_busy(struct dyn_event *ev);
static bool trace_wprobe_match(const char *system, const char *event,
			       int argc, const char **argv,
			       struct dyn_event *ev);

static struct dyn_event_operations trace_wprobe_ops = {
	.create = trace_wprobe_create,
	.show = trace_wprobe_show,
	.is_busy = trace_wprobe_is_busy,
	.free = trace_wprobe_release,
	.match = trace_wprobe_match,
};

static struct trace_wprobe *to_trace_wprobe(struct dyn_event *ev)
{
	return container_of(ev, struct trace_wprobe, devent);
}

static const char *wprobe_type_name(unsigned int type)
{
	switch (type) {
	case HW_BREAKPOINT_R:
		return "r";
	case HW_BREAKPOINT_W:
		return "w";
	default:
		return "rw";
	}
}

/*
 * The first argument as show() prints it, for match() to compare: the
 * access type, the location and the length, all spelt out.
 */
static int wprobe_spec(struct trace_wprobe *wp, char *buf, size_t size)
{
	const char *type = wprobe_type_name(wp->type);

	if (!wp->symbol)
		return snprintf(buf, size, "%s@0x%lx:%u", type, wp->addr,
				wp->len);
	if (wp->offset)
		return snprintf(buf, size, "%s@%s%+ld:%u", type, wp->symbol,
				wp->offset, wp->len);
	return snprintf(buf, size, "%s@%s:%u", type, wp->symbol, wp->len);
}

static bool trace_wprobe_is_busy(struct dyn_event *ev)
{
	return trace_probe_is_enabled(&to_trace_wprobe(ev)->tp);
}

static bool trace_wprobe_match(const char *system, const char *event,
			       int argc, const char **argv,
			       struct dyn_event *ev)
{
	struct trace_wprobe *wp = to_trace_wprobe(ev);
	char buf[KSYM_NAME_LEN + 48];

	if (event[0] != '\0' && strcmp(trace_probe_name(&wp->tp), event))
		return false;
	if (system && strcmp(trace_probe_group_name(&wp->tp), system))
		return false;
	if (!argc)
		return true;
	wprobe_spec(wp, buf, sizeof(buf));
	if (strcmp(buf, argv[0]) && strcmp(wp->spec, argv[0]))
		return false;
	return trace_probe_match_command_args(&wp->tp, argc - 1, argv + 1);
}

/*
 * The fetch code. $addr is FETCH_OP_EDATA at offset 0: the hit handler
 * passes a pointer to the address the watchpoint watches as entry data.
 * The code comes from the parser, not from user space: it is not checked.
 * The hit path is in .kprobes.text: a kprobe there would trap inside the
 * debug exception.
 */
static int __kprobes
process_fetch_insn(struct fetch_insn *code, void *rec, void *edata,
		   void *dest, void *base)
{
	struct pt_regs *regs = rec;
	unsigned long val;
	int ret;

retry:
	switch (code->op) {
	case FETCH_OP_REG:
		val = regs_get_register(regs, code->param);
		break;
	case FETCH_OP_STACK:
		val = regs_get_kernel_stack_nth(regs, code->param);
		break;
	case FETCH_OP_STACKP:
		val = kernel_stack_pointer(regs);
		break;
	case FETCH_OP_EDATA:
		val = *(unsigned long *)(edata + code->offset);
		break;
	case FETCH_NOP_SYMBOL:	/* resolved into the IMM that follows */
		code++;
		goto retry;
	default:
		ret = process_common_fetch_insn(code, &val);
		if (ret < 0)
			return ret;
	}
	code++;

	return process_fetch_insn_bottom(code, val, dest, base);
}

static void __kprobes wprobe_trace_hit(struct trace_wprobe *wp,
				       struct pt_regs *regs, unsigned long *addr,
				       struct trace_event_file *file)
{
	struct wprobe_trace_entry_head *entry;
	struct trace_event_buffer fbuffer;
	int dsize;

	if (trace_trigger_soft_disabled(file))
		return;

	dsize = __get_data_size(&wp->tp, regs, addr);
	entry = trace_event_buffer_reserve(&fbuffer, file,
					   sizeof(*entry) + wp->tp.size + dsize);
	if (!entry)
		return;

	fbuffer.regs = regs;
	entry->ip = instruction_pointer(regs);
	store_trace_args(&entry[1], &wp->tp, regs, addr, sizeof(*entry), dsize);
	trace_event_buffer_commit(&fbuffer);
}

static void __kprobes wprobe_perf_hit(struct trace_wprobe *wp,
				      struct pt_regs *regs, unsigned long *addr)
{
	struct trace_event_call *call = trace_probe_event_call(&wp->tp);
	struct wprobe_trace_entry_head *entry;
	struct hlist_head *head;
	int size, dsize, rctx;

	head = this_cpu_ptr(call->perf_events);
	if (hlist_empty(head))
		return;

	dsize = __get_data_size(&wp->tp, regs, addr);
	/* perf puts a u32 size before the record and aligns both to u64. */
	size = ALIGN(sizeof(*entry) + wp->tp.size + dsize + sizeof(u32),
		     sizeof(u64)) - sizeof(u32);
	entry = perf_trace_buf_alloc(size, NULL, &rctx);
	if (!entry)
		return;

	entry->ip = instruction_pointer(regs);
	memset(&entry[1], 0, dsize);
	store_trace_args(&entry[1], &wp->tp, regs, addr, sizeof(*entry), dsize);
	perf_trace_buf_submit(entry, size, rctx, call->event.type, 1, regs,
			      head, NULL);
}

/*
 * The watchpoint's overflow handler: one event per hit, on the CPU that
 * made the access, in the debug exception (x86 reports a data hit after
 * the access, with the ip of the next instruction; arm64 before it, at
 * the accessing instruction).
 */
static void __kprobes wprobe_hit(struct perf_event *bp,
				 struct perf_sample_data *data,
				 struct pt_regs *regs)
{
	struct trace_wprobe *wp = bp->overflow_handler_context;
	unsigned int flags = trace_probe_load_flag(&wp->tp);
	/* Where this CPU's watchpoint is now, for $addr and $value. */
	unsigned long addr = READ_ONCE(bp->attr.bp_addr);
	struct event_file_link *link;

	if (flags & TP_FLAG_TRACE) {
		trace_probe_for_each_link_rcu(link, &wp->tp)
			wprobe_trace_hit(wp, regs, &addr, link->file);
	}
	if (flags & TP_FLAG_PROFILE)
		wprobe_perf_hit(wp, regs, &addr);
}

static void wprobe_attr(struct trace_wprobe *wp, struct perf_event_attr *attr)
{
	hw_breakpoint_init(attr);
	attr->bp_addr = wp->addr;
	attr->bp_len = wp->len;
	attr->bp_type = wp->type;
}

/* Create the watchpoint on every CPU, present and to come. */
static int wprobe_arm(struct trace_wprobe *wp)
{
	struct perf_event * __percpu *bps;
	struct perf_event_attr attr;

	lockdep_assert_held(&event_mutex);
	if (wp->bps)
		return 0;
	wprobe_attr(wp, &attr);
	bps = register_wide_hw_breakpoint_hotplug(&attr, wprobe_hit, wp);
	if (IS_ERR(bps))
		return PTR_ERR(bps);
	WRITE_ONCE(wp->bps, bps);
	return 0;
}

/* After this, no CPU runs wprobe_hit() for @wp or will. */
static void wprobe_disarm(struct trace_wprobe *wp)
{
	lockdep_assert_held(&event_mutex);
	if (!wp->bps)
		return;
	unregister_wide_hw_breakpoint_hotplug(wp->bps);
	WRITE_ONCE(wp->bps, NULL);
}

/*
 * Enable for an ftrace instance (@file) or for perf (@file NULL); the
 * first user arms the watchpoint.
 */
static int wprobe_enable(struct trace_event_call *call,
			 struct trace_event_file *file)
{
	struct trace_probe *tp = trace_probe_primary_from_call(call);
	struct trace_wprobe *wp;
	int ret;

	if (WARN_ON_ONCE(!tp))
		return -ENODEV;
	wp = container_of(tp, struct trace_wprobe, tp);

	ret = wprobe_arm(wp);
	if (ret)
		return ret;
	if (file) {
		ret = trace_probe_add_file(tp, file);
		if (ret) {
			if (!trace_probe_is_enabled(tp))
				wprobe_disarm(wp);
			return ret;
		}
	} else {
		trace_probe_set_flag(tp, TP_FLAG_PROFILE);
	}
	return 0;
}

static int wprobe_disable(struct trace_event_call *call,
			  struct trace_event_file *file)
{
	struct trace_probe *tp = trace_probe_primary_from_call(call);
	struct trace_wprobe *wp;

	if (WARN_ON_ONCE(!tp))
		return -ENODEV;
	wp = container_of(tp, struct trace_wprobe, tp);

	if (file) {
		if (!trace_probe_get_file_link(tp, file))
			return -ENOENT;
		if (trace_probe_has_single_file(tp))
			trace_probe_clear_flag(tp, TP_FLAG_TRACE);
	} else {
		trace_probe_clear_flag(tp, TP_FLAG_PROFILE);
	}
	if (!trace_probe_is_enabled(tp))
		wprobe_disarm(wp);
	/* Waits for handlers still using the link (none once disarmed). */
	if (file)
		trace_probe_remove_file(tp, file);
	return 0;
}

static int wprobe_register(struct trace_event_call *call,
			   enum trace_reg type, void *data)
{
	switch (type) {
	case TRACE_REG_REGISTER:
		return wprobe_enable(call, data);
	case TRACE_REG_UNREGISTER:
		return wprobe_disable(call, data);
	case TRACE_REG_PERF_REGISTER:
		return wprobe_enable(call, NULL);
	case TRACE_REG_PERF_UNREGISTER:
		return wprobe_disable(call, NULL);
	case TRACE_REG_PERF_OPEN:
	case TRACE_REG_PERF_CLOSE:
	case TRACE_REG_PERF_ADD:
	case TRACE_REG_PERF_DEL:
		return 0;
	}
	return 0;
}

static enum print_line_t print_wprobe_event(struct trace_iterator *iter,
					    int flags,
					    struct trace_event *event)
{
	struct wprobe_trace_entry_head *field;
	struct trace_seq *s = &iter->seq;
	struct trace_probe *tp;

	field = (struct wprobe_trace_entry_head *)iter->ent;
	tp = trace_probe_primary_from_call(container_of(event,
							struct trace_event_call,
							event));
	if (WARN_ON_ONCE(!tp))
		goto out;

	trace_seq_printf(s, "%s: (", trace_probe_name(tp));
	if (!seq_print_ip_sym(s, field->ip, flags | TRACE_ITER_SYM_OFFSET))
		goto out;
	trace_seq_putc(s, ')');
	if (trace_probe_print_args(s, tp->args, tp->nr_args,
				   (u8 *)&field[1], field) < 0)
		goto out;
	trace_seq_putc(s, '\n');
out:
	return trace_handle_return(s);
}

static int wprobe_define_fields(struct trace_event_call *event_call)
{
	struct wprobe_trace_entry_head field;
	struct trace_probe *tp;
	int ret;

	tp = trace_probe_primary_from_call(event_call);
	if (WARN_ON_ONCE(!tp))
		return -ENOENT;

	DEFINE_FIELD(unsigned long, ip, FIELD_STRING_IP, 0);

	return traceprobe_define_arg_fields(event_call, sizeof(field), tp);
}

static struct trace_event_functions wprobe_funcs = {
	.trace = print_wprobe_event,
};

static struct trace_event_fields wprobe_fields_array[] = {
	{ .type = TRACE_FUNCTION_TYPE, .define_fields = wprobe_define_fields },
	{}
};

static void free_trace_wprobe(struct trace_wprobe *wp)
{
	if (!wp)
		return;
	trace_probe_cleanup(&wp->tp);
	module_put(wp->mod);
	kfree(wp->spec);
	kfree(wp->symbol);
	kfree(wp);
}

static struct trace_wprobe *find_trace_wprobe(const char *event,
					      const char *group)
{
	struct dyn_event *pos;

	for_each_dyn_event(pos) {
		struct trace_wprobe *wp;

		if (pos->ops != &trace_wprobe_ops)
			continue;
		wp = to_trace_wprobe(pos);
		if (!strcmp(trace_probe_name(&wp->tp), event) &&
		    !strcmp(trace_probe_group_name(&wp->tp), group))
			return wp;
	}
	return NULL;
}

/*
 * Watch probes have no siblings: a second definition with a name in use
 * is refused (two watchpoints behind one event would be two events).
 */
static int register_trace_wprobe(struct trace_wprobe *wp)
{
	struct trace_event_call *call = trace_probe_event_call(&wp->tp);
	int ret;

	/* A watch probe reads kernel memory, as a kprobe does. */
	ret = security_locked_down(LOCKDOWN_KPROBES);
	if (ret)
		return ret;

	guard(mutex)(&event_mutex);

	if (find_trace_wprobe(trace_probe_name(&wp->tp),
			      trace_probe_group_name(&wp->tp))) {
		trace_probe_log_set_index(0);
		trace_probe_log_err(0, EVENT_EXIST);
		return -EEXIST;
	}

	call->event.funcs = &wprobe_funcs;
	call->class->fields_array = wprobe_fields_array;
	call->class->reg = wprobe_register;
	ret = trace_probe_register_event_call(&wp->tp);
	if (ret) {
		if (ret == -EEXIST) {
			trace_probe_log_set_index(0);
			trace_probe_log_err(0, EVENT_EXIST);
		}
		return ret;
	}
	return dyn_event_add(&wp->devent, call);
}

static int unregister_trace_wprobe(struct trace_wprobe *wp)
{
	if (trace_probe_is_enabled(&wp->tp))
		return -EBUSY;
	/* Referenced by an eprobe, a histogram or a trigger. */
	if (trace_event_dyn_busy(trace_probe_event_call(&wp->tp)))
		return -EBUSY;
	if (trace_probe_unregister_event_call(&wp->tp))
		return -EBUSY;
	dyn_event_remove(&wp->devent);
	trace_probe_unlink(&wp->tp);
	return 0;
}

static int trace_wprobe_release(struct dyn_event *ev)
{
	struct trace_wprobe *wp = to_trace_wprobe(ev);
	int ret = unregister_trace_wprobe(wp);

	if (!ret)
		free_trace_wprobe(wp);
	return ret;
}

static int trace_wprobe_show(struct seq_file *m, struct dyn_event *ev)
{
	struct trace_wprobe *wp = to_trace_wprobe(ev);
	char buf[KSYM_NAME_LEN + 48];
	int i;

	wprobe_spec(wp, buf, sizeof(buf));
	seq_printf(m, "w:%s/%s %s", trace_probe_group_name(&wp->tp),
		   trace_probe_name(&wp->tp), buf);
	for (i = 0; i < wp->tp.nr_args; i++)
		seq_printf(m, " %s=%s", wp->tp.args[i].name,
			   wp->tp.args[i].comm);
	seq_putc(m, '\n');
	return 0;
}

/* Split "[r|w|rw]@" off @spec: the access type, or 0 if it is not one. */
static unsigned int wprobe_parse_type(const char *spec, const char **loc)
{
	static const struct {
		const char *prefix;
		unsigned int type;
	} types[] = {
		{ "rw@", HW_BREAKPOINT_RW },
		{ "r@", HW_BREAKPOINT_R },
		{ "w@", HW_BREAKPOINT_W },
		{ "@", HW_BREAKPOINT_RW },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		size_t n = str_has_prefix(spec, types[i].prefix);

		if (n) {
			*loc = spec + n;
			return types[i].type;
		}
	}
	return 0;
}

/*
 * Parse argv[1], "[r|w|rw]@<ADDRESS|SYMBOL[+|-OFFSET]>[:LENGTH]", into
 * @wp's type, address, symbol, offset and length, and check that the
 * address is kernel memory. Errors go to the error log at their column.
 */
static int wprobe_parse_spec(struct trace_wprobe *wp, const char *spec)
{
	const char *loc;
	char *buf, *colon;
	int ret = -EINVAL;

	wp->type = wprobe_parse_type(spec, &loc);
	if (!wp->type) {
		trace_probe_log_err(0, BAD_WPROBE_TYPE);
		return -EINVAL;
	}
	buf = kstrdup(loc, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	wp->len = WPROBE_DEFAULT_LEN;
	colon = strrchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (kstrtouint(colon + 1, 0, &wp->len) || !wp->len ||
		    (wp->len < 8 && !is_power_of_2(wp->len))) {
			trace_probe_log_err(loc - spec + (colon + 1 - buf),
					    BAD_WPROBE_LEN);
			goto out;
		}
	}

	if (isdigit(buf[0])) {
		if (kstrtoul(buf, 0, &wp->addr)) {
			trace_probe_log_err(loc - spec, BAD_PROBE_ADDR);
			goto out;
		}
	} else {
		if (!buf[0] || traceprobe_split_symbol_offset(buf, &wp->offset)) {
			trace_probe_log_err(loc - spec, BAD_PROBE_ADDR);
			goto out;
		}
		wp->addr = kallsyms_lookup_name(buf);
		if (!wp->addr) {
			trace_probe_log_err(loc - spec, BAD_PROBE_ADDR);
			goto out;
		}
		wp->addr += wp->offset;
		wp->symbol = kstrdup(buf, GFP_KERNEL);
		if (!wp->symbol) {
			ret = -ENOMEM;
			goto out;
		}
	}

	/* Kernel memory only, and no wrap past the top of the address space. */
	if (wp->addr < TASK_SIZE_MAX || wp->addr + wp->len - 1 < wp->addr) {
		trace_probe_log_err(loc - spec, WPROBE_ON_USER);
		goto out;
	}
	ret = 0;
out:
	kfree(buf);
	return ret;
}

/*
 * Keep the module whose memory @wp watches (if any) loaded while the
 * probe exists: its memory must not be freed and reused under the
 * watchpoint.
 */
static int wprobe_get_module(struct trace_wprobe *wp)
{
	struct module *mod;

	preempt_disable();
	mod = __module_address(wp->addr);
	if (mod && !try_module_get(mod))
		mod = ERR_PTR(-ENOENT);
	preempt_enable();
	if (IS_ERR(mod))
		return PTR_ERR(mod);
	wp->mod = mod;
	return 0;
}

/*
 * Ask the breakpoint layer now, on one CPU, whether it takes the
 * watchpoint (alignment, length, a range the registers cannot cover, an
 * address the debug exception itself uses), so that a bad definition
 * fails here and not at its first enable. A full CPU (-ENOSPC) is no
 * answer: the layer checks the request before it looks for a register,
 * so the definition is valid, and enabling may find one free.
 */
static int wprobe_check(struct trace_wprobe *wp)
{
	struct perf_event_attr attr;
	struct perf_event *bp;
	int cpu, ret;

	wprobe_attr(wp, &attr);
	attr.disabled = 1;
	cpus_read_lock();
	cpu = cpumask_first(cpu_online_mask);
	bp = perf_event_create_kernel_counter(&attr, cpu, NULL, NULL, NULL);
	cpus_read_unlock();
	if (IS_ERR(bp)) {
		ret = PTR_ERR(bp);
		return ret == -ENOSPC ? 0 : ret;
	}
	perf_event_release_kernel(bp);
	return 0;
}

/*
 * "$value" with no type reads the watched size (1, 2, 4 or 8 bytes), in
 * hex like the other untyped arguments; a range reads one long.
 */
static const char *wprobe_value_type(struct trace_wprobe *wp)
{
	switch (wp->len) {
	case 1:
		return "x8";
	case 2:
		return "x16";
	case 4:
		return "x32";
	case 8:
		return "x64";
	default:
		return DEFAULT_FETCH_TYPE_STR;
	}
}

static int wprobe_parse_arg(struct trace_wprobe *wp, int i, const char *arg,
			    struct traceprobe_parse_context *ctx)
{
	const char *body = strchr(arg, '=');
	char *typed;
	int ret;

	body = body ? body + 1 : arg;
	if (strcmp(body, "$value"))
		return traceprobe_parse_probe_arg(&wp->tp, i, arg, ctx);

	typed = kasprintf(GFP_KERNEL, "%s:%s", arg, wprobe_value_type(wp));
	if (!typed)
		return -ENOMEM;
	ret = traceprobe_parse_probe_arg(&wp->tp, i, typed, ctx);
	kfree(typed);
	return ret;
}

static int __trace_wprobe_create(int argc, const char *argv[])
{
	struct traceprobe_parse_context ctx = {
		.flags = TPARG_FL_KERNEL | TPARG_FL_WPROBE,
	};
	const char *event = NULL, *group = WPROBE_EVENT_SYSTEM;
	char gbuf[MAX_EVENT_NAME_LEN], ebuf[MAX_EVENT_NAME_LEN];
	struct trace_wprobe *wp;
	int i, ret;

	if (argv[0][0] != 'w' || (argv[0][1] != '\0' && argv[0][1] != ':'))
		return -ECANCELED;

	trace_probe_log_init("trace_wprobe", argc, argv);
	if (argc < 2) {
		trace_probe_log_set_index(1);
		trace_probe_log_err(0, BAD_PROBE_ADDR);
		ret = -EINVAL;
		goto out_log;
	}
	if (argv[0][1] == ':') {
		event = &argv[0][2];
		ret = traceprobe_parse_event_name(&event, &group, gbuf, 2);
		if (ret)
			goto out_log;
	}

	argc -= 2;
	if (argc > MAX_TRACE_ARGS) {
		ret = -E2BIG;
		goto out_log;
	}
	wp = kzalloc(struct_size(wp, tp.args, argc), GFP_KERNEL);
	if (!wp) {
		ret = -ENOMEM;
		goto out_log;
	}
	dyn_event_init(&wp->devent, &trace_wprobe_ops);

	trace_probe_log_set_index(1);
	ret = wprobe_parse_spec(wp, argv[1]);
	if (ret)
		goto out_free;
	ret = -ENOMEM;
	wp->spec = kstrdup(argv[1], GFP_KERNEL);
	if (!wp->spec)
		goto out_free;
	ret = wprobe_get_module(wp);
	if (ret) {
		trace_probe_log_err(0, BAD_PROBE_ADDR);
		goto out_free;
	}
	ret = wprobe_check(wp);
	if (ret) {
		trace_probe_log_err(0, WPROBE_REFUSED);
		goto out_free;
	}

	if (!event || !event[0]) {
		/* w_<symbol>_<offset> or w_0x<address>, as a C identifier. */
		if (wp->symbol)
			snprintf(ebuf, sizeof(ebuf), "w_%s_%ld", wp->symbol,
				 wp->offset);
		else
			snprintf(ebuf, sizeof(ebuf), "w_0x%lx", wp->addr);
		for (i = 0; ebuf[i]; i++)
			if (!isalnum(ebuf[i]))
				ebuf[i] = '_';
		event = ebuf;
	}

	ret = trace_probe_init(&wp->tp, event, group, false, argc);
	if (ret)
		goto out_free;

	ctx.event = trace_probe_event_call(&wp->tp);
	for (i = 0; i < argc; i++) {
		trace_probe_log_set_index(i + 2);
		ctx.offset = 0;
		ret = wprobe_parse_arg(wp, i, argv[i + 2], &ctx);
		if (ret)
			goto out_free;
	}
	/* Fetch arguments on symbols (@sym) get their addresses now. */
	for (i = 0; i < argc; i++) {
		ret = traceprobe_update_arg(&wp->tp.args[i]);
		if (ret)
			goto out_free;
	}

	ret = traceprobe_set_print_fmt(&wp->tp, PROBE_PRINT_NORMAL);
	if (ret)
		goto out_free;

	ret = register_trace_wprobe(wp);
	if (ret)
		goto out_free;
	goto out_log;

out_free:
	free_trace_wprobe(wp);
out_log:
	traceprobe_finish_parse(&ctx);
	trace_probe_log_clear();
	return ret;
}

static int trace_wprobe_create(const char *raw_command)
{
	return trace_probe_create(raw_command, __trace_wprobe_create);
}

/*
 * Event triggers that move a watch probe from another event:
 *
 *	set_wprobe:[GROUP/]WPROBE:FIELD[+|-OFFSET] [if FILTER]
 *	clear_wprobe:[GROUP/]WPROBE[:FIELD[+|-OFFSET]] [if FILTER]
 *
 * set_wprobe points the watch probe, on the CPU where the triggering event
 * fires, at the address in FIELD of that event's record plus OFFSET (a
 * kprobe's pointer argument, say), with modify_wide_hw_breakpoint_local():
 * from the trigger's own context, without sleeping. clear_wprobe points it
 * back at the address it was defined with, or, given a FIELD, only if it
 * watches that field's address now. The other CPUs keep watching what they
 * watched.
 *
 * While a trigger exists it holds a reference on the watch probe's event
 * (which cannot be removed) and enables it in soft mode: the watchpoint is
 * armed on every CPU, and its hits are recorded once the event itself is
 * enabled.
 */
struct wprobe_trigger {
	struct trace_wprobe		*wp;
	struct trace_event_file		*wp_file;	/* in the trigger's instance */
	struct ftrace_event_field	*field;		/* NULL: clear_wprobe, any */
	long				offset;
	bool				set;
};

#define SET_WPROBE_STR		"set_wprobe"
#define CLEAR_WPROBE_STR	"clear_wprobe"

static void __kprobes wprobe_trigger(struct event_trigger_data *data,
				     struct trace_buffer *buffer, void *rec,
				     struct ring_buffer_event *rbe)
{
	struct wprobe_trigger *wt = data->private_data;
	struct perf_event * __percpu *bps = READ_ONCE(wt->wp->bps);
	unsigned long addr = wt->wp->addr, at = 0;
	struct perf_event *bp;

	if (!rec || !bps)
		return;
	if (wt->field)
		at = *(unsigned long *)(rec + wt->field->offset) + wt->offset;
	if (!wt->set) {
		bp = *this_cpu_ptr(bps);
		if (!bp || (wt->field && READ_ONCE(bp->attr.bp_addr) != at))
			return;
	} else {
		addr = at;
	}
	/* A refused address (user memory, misaligned) leaves it as it was. */
	modify_wide_hw_breakpoint_local(bps, addr);
}

static int wprobe_trigger_init(struct event_trigger_data *data)
{
	data->ref++;
	return 0;
}

static void wprobe_trigger_free(struct event_trigger_data *data)
{
	struct wprobe_trigger *wt = data->private_data;

	if (WARN_ON_ONCE(data->ref <= 0))
		return;
	if (--data->ref)
		return;
	/* No CPU is still in wprobe_trigger() with the watchpoints. */
	synchronize_rcu();
	trace_event_enable_disable(wt->wp_file, 0, 1);
	trace_event_put_ref(wt->wp_file->event_call);
	trigger_data_free(data);
	kfree(wt);
}

static int wprobe_trigger_print(struct seq_file *m,
				struct event_trigger_data *data)
{
	struct wprobe_trigger *wt = data->private_data;

	seq_printf(m, "%s:%s/%s", wt->set ? SET_WPROBE_STR : CLEAR_WPROBE_STR,
		   trace_probe_group_name(&wt->wp->tp),
		   trace_probe_name(&wt->wp->tp));
	if (wt->field) {
		seq_printf(m, ":%s", wt->field->name);
		if (wt->offset)
			seq_printf(m, "%+ld", wt->offset);
	}
	if (data->filter_str)
		seq_printf(m, " if %s", data->filter_str);
	seq_putc(m, '\n');
	return 0;
}

/* One trigger per command and watch probe on an event. */
static struct event_trigger_data *
wprobe_trigger_find(struct trace_event_file *file,
		    struct event_trigger_data *like)
{
	struct wprobe_trigger *wt = like->private_data;
	struct event_trigger_data *iter;

	list_for_each_entry(iter, &file->triggers, list) {
		struct wprobe_trigger *it = iter->private_data;

		if (iter->cmd_ops == like->cmd_ops && it->wp == wt->wp)
			return iter;
	}
	return NULL;
}

static int wprobe_trigger_reg(char *glob, struct event_trigger_data *data,
			      struct trace_event_file *file)
{
	int ret;

	lockdep_assert_held(&event_mutex);
	if (wprobe_trigger_find(file, data))
		return -EEXIST;
	ret = data->cmd_ops->init(data);
	if (ret < 0)
		return ret;
	list_add_rcu(&data->list, &file->triggers);
	update_cond_flag(file);
	ret = trace_event_trigger_enable_disable(file, 1);
	if (ret < 0) {
		list_del_rcu(&data->list);
		update_cond_flag(file);
		data->cmd_ops->free(data);
	}
	return ret;
}

static void wprobe_trigger_unreg(char *glob, struct event_trigger_data *test,
				 struct trace_event_file *file)
{
	struct event_trigger_data *data;

	lockdep_assert_held(&event_mutex);
	data = wprobe_trigger_find(file, test);
	if (!data)
		return;
	list_del_rcu(&data->list);
	trace_event_trigger_enable_disable(file, 0);
	update_cond_flag(file);
	data->cmd_ops->free(data);
}

/* "[GROUP/]EVENT": the watch probe and its file in @tr. */
static int wprobe_trigger_target(struct trace_array *tr, char *name,
				 struct wprobe_trigger *wt)
{
	const char *group = WPROBE_EVENT_SYSTEM, *event = name;
	char *slash = strchr(name, '/');

	if (slash) {
		*slash = '\0';
		group = name;
		event = slash + 1;
	}
	wt->wp = find_trace_wprobe(event, group);
	if (!wt->wp)
		return -ENOENT;
	wt->wp_file = find_event_file(tr, group, event);
	return wt->wp_file ? 0 : -ENOENT;
}

/* "FIELD[+|-OFFSET]" of @file's event, a field holding an address. */
static int wprobe_trigger_field(struct trace_event_file *file, char *spec,
				struct wprobe_trigger *wt)
{
	char *sign = strpbrk(spec, "+-");

	if (sign) {
		if (kstrtol(sign, 0, &wt->offset))
			return -EINVAL;
		*sign = '\0';
	}
	wt->field = trace_find_event_field(file->event_call, spec);
	/* An address: a plain field of the size of a pointer. */
	if (!wt->field || wt->field->filter_type != FILTER_OTHER ||
	    wt->field->size != sizeof(unsigned long))
		return -EINVAL;
	return 0;
}

static int wprobe_trigger_parse(struct event_command *cmd_ops,
				struct trace_event_file *file, char *glob,
				char *cmd, char *param_and_filter)
{
	struct event_trigger_data *data;
	struct wprobe_trigger *wt;
	char *param, *filter, *target, *field;
	bool remove = event_trigger_check_remove(glob);
	int ret;

	if (event_trigger_empty_param(param_and_filter))
		return -EINVAL;
	ret = event_trigger_separate_filter(param_and_filter, &param, &filter,
					    true);
	if (ret)
		return ret;
	target = strsep(&param, ":");
	field = strsep(&param, ":");
	/* No count: a move is not worth rationing, and FIELD is required. */
	if (param || (!field && !strcmp(cmd, SET_WPROBE_STR)))
		return -EINVAL;

	wt = kzalloc(sizeof(*wt), GFP_KERNEL);
	if (!wt)
		return -ENOMEM;
	wt->set = !strcmp(cmd, SET_WPROBE_STR);
	ret = wprobe_trigger_target(file->tr, target, wt);
	if (!ret && field)
		ret = wprobe_trigger_field(file, field, wt);
	if (ret)
		goto out_free_wt;

	ret = -ENOMEM;
	data = trigger_data_alloc(cmd_ops, cmd, NULL, wt);
	if (!data)
		goto out_free_wt;
	if (remove) {
		event_trigger_unregister(cmd_ops, file, glob + 1, data);
		trigger_data_free(data);
		kfree(wt);
		return 0;
	}

	/*
	 * Our reference: before the trigger is registered the unwinding below
	 * drops what it took; after, free() drops everything.
	 */
	event_trigger_init(data);
	ret = event_trigger_set_filter(cmd_ops, file, filter, data);
	if (ret < 0)
		goto out_free_data;
	ret = -EBUSY;
	if (!trace_event_try_get_ref(wt->wp_file->event_call))
		goto out_reset_filter;
	ret = trace_event_enable_disable(wt->wp_file, 1, 1);
	if (ret < 0)
		goto out_soft;
	ret = event_trigger_register(cmd_ops, file, glob, data);
	if (ret < 0)
		goto out_free_data_armed;
	wprobe_trigger_free(data);
	return 0;

out_free_data_armed:
	/* The references are the trigger's now: its free() drops them. */
	event_trigger_reset_filter(cmd_ops, data);
	wprobe_trigger_free(data);
	return ret;
out_soft:
	/* A failed enable (no register free) has left soft mode counted. */
	trace_event_enable_disable(wt->wp_file, 0, 1);
	trace_event_put_ref(wt->wp_file->event_call);
out_reset_filter:
	event_trigger_reset_filter(cmd_ops, data);
out_free_data:
	trigger_data_free(data);
out_free_wt:
	kfree(wt);
	return ret;
}

static struct event_command wprobe_set_cmd = {
	.name		= SET_WPROBE_STR,
	.trigger_type	= ETT_WPROBE,
	.flags		= EVENT_CMD_FL_NEEDS_REC,
	.parse		= wprobe_trigger_parse,
	.reg		= wprobe_trigger_reg,
	.unreg		= wprobe_trigger_unreg,
	.set_filter	= set_trigger_filter,
	.trigger	= wprobe_trigger,
	.init		= wprobe_trigger_init,
	.free		= wprobe_trigger_free,
	.print		= wprobe_trigger_print,
};

static struct event_command wprobe_clear_cmd = {
	.name		= CLEAR_WPROBE_STR,
	.trigger_type	= ETT_WPROBE,
	.flags		= EVENT_CMD_FL_NEEDS_REC,
	.parse		= wprobe_trigger_parse,
	.reg		= wprobe_trigger_reg,
	.unreg		= wprobe_trigger_unreg,
	.set_filter	= set_trigger_filter,
	.trigger	= wprobe_trigger,
	.init		= wprobe_trigger_init,
	.free		= wprobe_trigger_free,
	.print		= wprobe_trigger_print,
};

static __init int init_wprobe_trace(void)
{
	int ret = dyn_event_register(&trace_wprobe_ops);

	if (ret)
		return ret;
	ret = register_event_command(&wprobe_set_cmd);
	if (ret)
		return ret;
	return register_event_command(&wprobe_clear_cmd);
}
core_initcall(init_wprobe_trace);
