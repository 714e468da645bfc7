"""Test-only additions to our tree, never part of the patch series.

The base tree's own KUnit suite for the subsystem is built into our x86_64
kernel, renamed hw_breakpoint_upstream, as a second opinion on our core's
semantics. (It sets per-task breakpoints on kernel addresses, which arm64
refuses by design, so it only makes sense on x86.)
"""

import os

from common import BASE_TREE

UPSTREAM_TEST = "kernel/events/hw_breakpoint_test.c"
EXTRA_TEST = "kernel/events/hw_breakpoint_upstream_test.c"
MAKEFILE = "kernel/events/Makefile"

MAKEFILE_LINES = """
# Added by the hwbp test harness (not part of the series): the base tree's
# KUnit suite, renamed, as a second opinion on the allocator (x86 only).
ifdef CONFIG_X86
obj-$(CONFIG_HW_BREAKPOINT_KUNIT_TEST) += hw_breakpoint_upstream_test.o
endif
"""


def apply(scratch, owned):
    """Write the extras into scratch (on top of owned files); return paths."""
    with open(os.path.join(BASE_TREE, UPSTREAM_TEST)) as f:
        text = f.read()
    renamed = text.replace('.name = "hw_breakpoint"',
                           '.name = "hw_breakpoint_upstream"')
    if renamed == text:
        raise RuntimeError(f"{UPSTREAM_TEST}: suite name not found")
    with open(os.path.join(scratch, EXTRA_TEST), "w") as f:
        f.write(renamed)

    src = (os.path.join(scratch, MAKEFILE) if MAKEFILE in owned
           else os.path.join(BASE_TREE, MAKEFILE))
    with open(src) as f:
        makefile = f.read()
    with open(os.path.join(scratch, MAKEFILE), "w") as f:
        f.write(makefile + MAKEFILE_LINES)
    return [EXTRA_TEST, MAKEFILE]
