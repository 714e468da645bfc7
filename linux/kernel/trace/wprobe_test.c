// SPDX-License-Identifier: GPL-2.0
/*
 * Something for watch probes to watch: a variable the kernel reads and
 * writes on request, and a function that writes to the object it is
 * handed, so that a kprobe on it can tell a watch probe what to follow.
 *
 *	/sys/module/wprobe_test/parameters/value	reads or writes
 *		wprobe_test_value (param_get_int(), param_set_int())
 *	/sys/module/wprobe_test/parameters/poke		writing N stores N in
 *		the next of two objects through wprobe_test_poke()
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

struct wprobe_test_obj {
	unsigned long	pokes;
	int		val;
};

static int wprobe_test_value;
module_param_named(value, wprobe_test_value, int, 0644);
MODULE_PARM_DESC(value, "a variable to watch");

static struct wprobe_test_obj wprobe_test_objs[2];
static unsigned int wprobe_test_next;

/*
 * Not inlined, so that a kprobe can find it and its argument. The store is
 * not the first instruction, which a kprobe would single-step out of line
 * (the watch probe would then report the kprobe's instruction slot).
 */
static noinline void wprobe_test_poke(struct wprobe_test_obj *obj, int val)
{
	WRITE_ONCE(obj->pokes, obj->pokes + 1);
	WRITE_ONCE(obj->val, val);
}

static int wprobe_test_poke_set(const char *arg, const struct kernel_param *kp)
{
	struct wprobe_test_obj *obj;
	int val, ret;

	ret = kstrtoint(arg, 0, &val);
	if (ret)
		return ret;
	obj = &wprobe_test_objs[wprobe_test_next++ % ARRAY_SIZE(wprobe_test_objs)];
	wprobe_test_poke(obj, val);
	return 0;
}

static const struct kernel_param_ops wprobe_test_poke_ops = {
	.set = wprobe_test_poke_set,
};
module_param_cb(poke, &wprobe_test_poke_ops, NULL, 0200);
MODULE_PARM_DESC(poke, "store a number in the next of two objects");

MODULE_DESCRIPTION("Targets for the watch-probe event tests");
MODULE_LICENSE("GPL");
