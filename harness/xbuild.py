"""make lint's cross builds: the other arches that select HAVE_HW_BREAKPOINT.

Our kernel/events/hw_breakpoint.c and include/linux/hw_breakpoint.h
replace upstream's for every arch, not only the two the guests boot. For
each arch below that Debian has a cross compiler for, this configures a
minimal kernel (allnoconfig, configs/xbuild.config and
configs/xbuild-<arch>.config, every line verified), runs `make prepare`
and then compiles, with W=1 and sparse (C=2), kernel/events/ (the core,
its KUnit suite, perf's core, and kernel/ptrace.c and kernel/exit.c,
which call into it) and the arch's own breakpoint, ptrace and process
objects, which include our header. A suite per arch: one case per object
(it must exist after the build), failed by any W=1 or sparse message in
a file of ours or by a failed build.

None of them boots here with its breakpoints: QEMU 7.2's TCG has no
powerpc watchpoints (DAWR came in QEMU 8.2); QEMU's only SH-4 board,
r2d, has an SH7751R (plain SH-4), and Linux drives only the SH-4A's User
Break Controller (arch/sh/kernel/cpu/sh4a/ubc.c), so an sh kernel there
has no breakpoint registers at all (its sh_ubc stays the zero-event
dummy); 32-bit arm boots as a guest of its own (make check ARCH=arm).
So the path powerpc's and sh's ptrace handlers take, a
modify_user_hw_breakpoint() with interrupts off from the hit, runs on
none of them: the KUnit case test_modify_irqs_off and the allocator's
user-space walk cover it instead.

Arches that select HAVE_HW_BREAKPOINT in 6.12 and are not here:
  loongarch, xtensa: Debian 12 has no cross compiler for them;
  hexagon: its `select HAVE_HW_BREAKPOINT` is commented out.
"""

import os
import shutil
import subprocess

import lint
from common import (BUILD, BUILD_ENV, CONFIGS, OURS_TREE, build_lock, jobs,
                    log, run)
from kbuild import parse_config
from results import Suite

XARCH = {
    "arm": {
        "cross": "arm-linux-gnueabihf-",
        "objs": ["arch/arm/kernel/hw_breakpoint.o",
                 "arch/arm/kernel/ptrace.o",
                 "arch/arm/kernel/process.o"],
    },
    "powerpc": {
        "cross": "powerpc64le-linux-gnu-",
        "objs": ["arch/powerpc/kernel/hw_breakpoint.o",
                 "arch/powerpc/kernel/hw_breakpoint_constraints.o",
                 "arch/powerpc/kernel/ptrace/ptrace.o",
                 "arch/powerpc/kernel/ptrace/ptrace-noadv.o",
                 "arch/powerpc/kernel/process.o",
                 "arch/powerpc/kernel/signal.o"],
    },
    "sh": {
        "cross": "sh4-linux-gnu-",
        "objs": ["arch/sh/kernel/hw_breakpoint.o",
                 "arch/sh/kernel/ptrace_32.o",
                 "arch/sh/kernel/process_32.o",
                 "arch/sh/kernel/cpu/sh4a/ubc.o"],
    },
}

# Built in every cross kernel: perf's core and ours, our KUnit suite, and
# the generic callers of our header.
GENERIC_OBJS = ["kernel/events/core.o", "kernel/events/hw_breakpoint.o",
                "kernel/events/hw_breakpoint_test.o", "kernel/ptrace.o",
                "kernel/exit.o"]


def objdir(karch):
    return os.path.join(BUILD, "obj", f"xbuild-ours-{karch}")


def make_cmd(karch, *targets, extra=()):
    cross = XARCH[karch]["cross"]
    cmd = ["make", "-C", OURS_TREE, f"O={objdir(karch)}", f"ARCH={karch}",
           f"CROSS_COMPILE={cross}", f"-j{jobs()}", "-s"]
    if shutil.which("ccache"):
        cmd += [f"CC=ccache {cross}gcc", "HOSTCC=ccache gcc"]
    return cmd + list(extra) + list(targets)


def configure(karch):
    """allnoconfig + the fragments; None, or what went wrong (a failed
    allnoconfig, or the symbols Kconfig did not honour)."""
    obj = objdir(karch)
    os.makedirs(obj, exist_ok=True)
    merged = os.path.join(obj, "hwbp-fragment.config")
    wanted = {}
    with open(merged, "w") as out:
        for name in ("xbuild.config", f"xbuild-{karch}.config"):
            path = os.path.join(CONFIGS, name)
            with open(path) as f:
                out.write(f.read())
            wanted.update(parse_config(path))
    log_path = os.path.join(obj, "hwbp-config.log")
    if run(make_cmd(karch, "allnoconfig",
                    extra=[f"KCONFIG_ALLCONFIG={merged}"]),
           logfile=log_path, check=False):
        return f"allnoconfig failed: {log_path}"
    got = parse_config(os.path.join(obj, ".config"))
    dropped = [f"{sym} wants {val or 'unset'}, has {got.get(sym) or 'unset'}"
               for sym, val in sorted(wanted.items()) if got.get(sym) != val]
    return ("Kconfig did not honour the fragment: " + "; ".join(dropped)
            if dropped else None)


def check_arch(karch):
    s = Suite(f"lint:xbuild:{karch}")
    cross = XARCH[karch]["cross"] + "gcc"
    if not shutil.which(cross):
        s.fail(f"no {cross} (make setup installs it)")
        return s
    dropped = configure(karch)
    if dropped:
        s.fail(f"configuration: {dropped}")
        return s
    obj = objdir(karch)
    objs = GENERIC_OBJS + XARCH[karch]["objs"]
    if run(make_cmd(karch, "prepare"), check=False,
           logfile=os.path.join(obj, "hwbp-prepare.log")):
        s.fail(f"make prepare failed: {obj}/hwbp-prepare.log")
        return s
    # Forget the objects so that every run compiles (and checks) them.
    for o in objs:
        try:
            os.unlink(os.path.join(obj, o))
        except FileNotFoundError:
            pass
    cmd = make_cmd(karch, *objs, extra=["W=1", "C=2", "CHECK=sparse"])
    res = subprocess.run(cmd, capture_output=True, text=True,
                         env=dict(os.environ, **BUILD_ENV))
    with open(os.path.join(obj, "hwbp-objects.log"), "w") as f:
        f.write(res.stdout + res.stderr)
    return lint.judge_objects(s, objs, res, obj_dir=obj)

def run_all(arches=tuple(XARCH)):
    out = []
    for karch in arches:
        log(f"lint: cross build, W=1 and sparse ({karch})")
        with build_lock():
            out.append(check_arch(karch))
    return out
