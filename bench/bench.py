#!/usr/bin/env python3
"""make bench: our kernel against the stock 6.12 kernel, side by side.

  bench/bench.py [--rounds N] [--quick] [--arch A,B] [--config C,D]
                 [--out DIR]
  bench/bench.py --report bench/results.json   redo the report only

Guest time is QEMU's deterministic instruction count (-icount
shift=0,sleep=off,align=off -rtc clock=vm): the guest's clock advances
one nanosecond per instruction executed by any vCPU, and the time of an
idle guest skips to its next timer. A figure is then a path length, the
same whatever else the host runs; it does not model caches, memory
latency or real lock contention (vCPUs take turns on one host thread).

Two kernel configurations, each for stock and ours:

  bench   production-like (configs/bench.config over the common
          fragments: no lockdep or other debugging, NO_HZ_IDLE,
          NR_CPUS=64); booted with 4, 16 and 64 vCPUs
  debug   the configuration of make check (lockdep, PROVE_RCU, ...);
          4 vCPUs, the second table

Every round boots each (arch, config, vCPUs) pair of kernels, stock and
ours, the two at once (icount makes them independent of each other),
the order inside each pair alternating ABBA by round. Per figure the
report gives the median of the rounds per kernel and the paired ratio
ours/stock: the geometric mean of the per-round ratios and its 95%
confidence interval (Student's t over the logarithms). Writes, in --out
(default bench/):

  results.md    the tables and the verdicts
  results.png   the scaling curves (gnuplot)
  results.csv   every figure of every boot
  results.json  the same, the plan, the QEMU command lines

Every figure is a cost (time per operation): lower is better, and a
ratio below 1.00 means ours is faster.
"""

import argparse
import concurrent.futures
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))

import guest  # noqa: E402
import kbuild  # noqa: E402
import qemu  # noqa: E402
import tree  # noqa: E402
from common import (ARCH, BUILD, TOP, base_version, build_lock, die,  # noqa: E402
                    log, objdir, run)

GUEST_SRC = os.path.join(HERE, "guest")
MODULE_SRC = os.path.join(HERE, "module")
PERF = "/usr/bin/perf"

CONFIGS = {
    # config: (kernel name suffix, vCPU counts)
    "bench": ("+bench", (4, 16, 64)),
    "debug": ("", (4,)),
}
# QUICK=1 (a smoke run in about 10 minutes): the production kernels on 4
# and 16 vCPUs (a 64-vCPU x86 guest alone boots for 4 minutes), 2 rounds.
QUICK_CPUS = {"bench": (4, 16), "debug": ()}

# QEMU for the benchmark guests: the harness's machine with the vCPU
# count of the shape, a GICv3 on arm64 (GICv2 stops at 8 CPUs), and the
# deterministic clock.
ICOUNT = ["-icount", "shift=0,sleep=off,align=off", "-rtc", "clock=vm"]


def machine(arch, cpus):
    if arch == "x86_64":
        return ["qemu-system-x86_64", "-M", "pc", "-smp",
                f"{cpus},sockets={cpus}", "-m", "2G", *ICOUNT]
    return ["qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu",
            "max,pauth-impdef=on", "-smp", str(cpus), "-m", "2G", *ICOUNT]


# Kernel parameters: KUnit off (the debug kernels build it in), and on x86
# the TSC trusted as a clocksource (QEMU's qemu64 CPU on several sockets
# would otherwise leave the guest on jiffies; under icount every vCPU
# reads one counter derived from the virtual clock).
BOOT_ARGS = ("kunit.enable=0", "tsc=reliable", "quiet")


def plan(config, cpus, quick):
    """The guest's work for one shape: (kind, timeout s, args, keys).

    keys: the figures the line must produce (any that does not appear
    is reported as missing). Timeouts are guest seconds.
    """
    reps = 3 if quick else 5
    lines = []

    def run_line(args, key, tmo=600):
        lines.append(("run", tmo, args, [key]))

    def perf_line(key, args, tmo=600):
        lines.append(("perf", tmo, f"{key} {args}", [key]))

    if cpus == 4:
        for b in (0, 1, 4):
            run_line(f"/bin/bpbench thread 8 8 {b} {reps}",
                     f"thread/p8_t8_b{b}")
        for b in (0, 1, 4):
            perf_line(f"perf/thread/p8_t8_b{b}", f"thread -b {b} -p 8 -t 8")
        run_line(f"/bin/bpbench hits none 2000000 {reps}", "hits/none")
        run_line(f"/bin/bpbench hits count {2000 if quick else 10000} {reps}",
                 "hits/count")
        for b in (0, 1, 4):
            run_line(f"/bin/bpbench pingpong {b} 2000 {reps}",
                     f"pingpong/b{b}")
        run_line(f"/bin/bpbench ptrace 2000 {reps}", "ptrace/writes")
        # Rotation: 8 flexible watchpoints on 4 registers against 4 (stock
        # refuses the fifth: its b8 shows as missing).
        for b in (0, 4, 8):
            run_line(f"/bin/bpbench spin {b} 20000000 {reps}", f"spin/b{b}")
        # Only passive threads: with active ones, every enable and disable
        # is an IPI to a busy vCPU, which under -icount waits for QEMU's
        # round-robin to reach that vCPU while the others spin (170 ms per
        # operation): a figure of QEMU's scheduling, not of either kernel.
        perf_line("perf/enable/p4_a0", "enable -p 4 -a 0")
    # The scaling shape: as many thread-creating threads as vCPUs, each
    # creating batches of 64 threads; at 64 vCPUs, the anchor's shape
    # (perf bench breakpoint thread -p 64 -t 64, Elver 2022).
    if config == "bench":
        for b in (0, 4):
            perf_line(f"perf/thread/p{cpus}_t64_b{b}",
                      f"thread -b {b} -p {cpus} -t 64", tmo=1200)
    # The same shape in bpbench, so the perf core's own inheritance can
    # be taken out: four inherited counting cpu-clock events instead of
    # four breakpoints cost what perf does for any inherited event (copy,
    # attach, free); breakpoints over them are the slot accounting and
    # the arch's install. 16 threads per spawner keeps the 64-vCPU boot
    # within its time.
    if config == "bench" and cpus in (4, 64):
        for b, kind in ((0, "sw"), (4, "sw"), (4, "bp")):
            run_line(f"/bin/bpbench inherit {cpus} 16 {b} {kind} {reps}",
                     f"inherit/p{cpus}_t16_b{b}_{kind}", tmo=1200)
    # The full population curve once per arch: the production kernel
    # on 4 vCPUs (lockdep makes 10k threads slow, and the curve is the
    # allocator's, not the CPU count's).
    counts = [1, 100, 1000, 10000] if (config, cpus) == ("bench", 4) \
        and not quick else [1, 1000]
    keys = [f"kmod/{what}/{n}" for n in counts
            for what in ("cpu", "task_all", "task_one", "sw_cpu", "sw_task")]
    # Growing to 1 task is one kernel thread's creation: not a figure.
    keys += [f"kmod/grow/{n}" for n in counts if n >= 100]
    lines.append(("module", 1800,
                  f"counts={','.join(map(str, counts))} iters=200", keys))
    return lines


# How each figure is shown: a key pattern, its label and unit.
UNITS = (
    (r"^thread/p(\d+)_t(\d+)_b(\d+)$",
     "bpbench thread: {0} procs x {1} threads, {2} bps each", "us/run"),
    (r"^perf/thread/p(\d+)_t(\d+)_b(\d+)$",
     "perf bench breakpoint thread -p {0} -t {1} -b {2}", "us/op"),
    (r"^overhead/perf/p(\d+)_t(\d+)_b(\d+)$",
     "perf thread -p {0} -t {1}: b{2} / b0 (accounting overhead)", "x"),
    (r"^overhead/thread/p(\d+)_t(\d+)_b(\d+)$",
     "bpbench thread {0}x{1}: b{2} / b0 (accounting overhead)", "x"),
    (r"^inherit/p(\d+)_t(\d+)_b0_sw$",
     "bpbench inherit: {0} threads x {1} new threads, no event", "us/thread"),
    (r"^inherit/p(\d+)_t(\d+)_b(\d+)_sw$",
     "bpbench inherit: {0} x {1}, {2} inherited cpu-clock events",
     "us/thread"),
    (r"^inherit/p(\d+)_t(\d+)_b(\d+)_bp$",
     "bpbench inherit: {0} x {1}, {2} inherited watchpoints", "us/thread"),
    (r"^overhead/inherit/p(\d+)_t(\d+)_b(\d+)_sw$",
     "bpbench inherit {0}x{1}: {2} cpu-clock / none (perf core's inheritance)",
     "x"),
    (r"^overhead/inherit/p(\d+)_t(\d+)_b(\d+)_bp$",
     "bpbench inherit {0}x{1}: {2} watchpoints / {2} cpu-clock (slot accounting)",
     "x"),
    (r"^perf/enable/p(\d+)_a(\d+)$",
     "perf bench breakpoint enable -p {0} -a {1}", "us/op"),
    (r"^hits/none$", "write loop, no watchpoint", "ns/write"),
    (r"^hits/count$", "write loop, counting watchpoint (every write hits)",
     "ns/write"),
    (r"^pingpong/b(\d+)$",
     "pipe ping-pong on one CPU, {0} watchpoints per thread", "ns/round trip"),
    (r"^spin/b(\d+)$",
     "spin loop, {0} non-pinned watchpoints that never fire (8: rotated)",
     "ns/iteration"),
    (r"^overhead/spin/b8$",
     "spin loop: 8 rotated watchpoints / 4 (the cost of rotation)", "x"),
    (r"^ptrace/writes$",
     "ptrace: arm/disarm a tracee's watchpoint (DR7 / NT_ARM_HW_WATCH)",
     "ns/write"),
    (r"^kmod/grow/(\d+)$",
     "kmod: add a task watchpoint (+kthread), up to {0} tasks", "ns/op"),
    (r"^kmod/cpu/(\d+)$", "kmod: CPU bp create+release, {0} task bps",
     "ns/op"),
    (r"^kmod/task_all/(\d+)$",
     "kmod: task bp (all CPUs) create+release, {0} task bps", "ns/op"),
    (r"^kmod/task_one/(\d+)$",
     "kmod: task bp (one CPU) create+release, {0} task bps", "ns/op"),
    (r"^kmod/sw_cpu/(\d+)$",
     "kmod: CPU cpu-clock event (perf floor), {0} task bps", "ns/op"),
    (r"^kmod/sw_task/(\d+)$",
     "kmod: task cpu-clock event (perf floor), {0} task bps", "ns/op"),
)


def describe(key):
    """'smp64/perf/thread/...' -> (label, unit, vCPUs)."""
    cpus, _, rest = key.partition("/")
    for pattern, label, unit in UNITS:
        m = re.match(pattern, rest)
        if m:
            return label.format(*m.groups()), unit, int(cpus[3:])
    return rest, "?", int(cpus[3:])


def sort_key(key):
    """Table order: by vCPUs, then groups as in UNITS, numbers numerically."""
    cpus, _, rest = key.partition("/")
    for i, (pattern, _, _) in enumerate(UNITS):
        m = re.match(pattern, rest)
        if m:
            return (int(cpus[3:]), i, [int(g) for g in m.groups()])
    return (int(cpus[3:]), len(UNITS), [rest])


# ---- building ----

def copy_if_changed(src, dst):
    """Keep mtimes of unchanged files, so kbuild and make stay incremental."""
    with open(src, "rb") as f:
        data = f.read()
    if os.path.exists(dst):
        with open(dst, "rb") as f:
            if f.read() == data:
                return
    with open(dst, "wb") as f:
        f.write(data)


def workdir(kernel, arch):
    return os.path.join(BUILD, "bench", f"{kernel.replace('+', '-')}-{arch}")


def build_module(kernel, arch):
    """hwbp_bench.ko for one kernel, built out of tree in build/bench/."""
    dst = os.path.join(workdir(kernel, arch), "module")
    os.makedirs(dst, exist_ok=True)
    for name in ("hwbp_bench.c", "Kbuild"):
        copy_if_changed(os.path.join(MODULE_SRC, name), os.path.join(dst, name))
    run(kbuild.make_cmd(kernel, arch, "modules", extra=[f"M={dst}"]),
        logfile=os.path.join(dst, "build.log"))
    ko = os.path.join(dst, "hwbp_bench.ko")
    if not os.path.exists(ko):
        die(f"{kernel}/{arch}: no {ko} after the module build")
    return ko


def compile_static(kernel, arch, src, out):
    """A static guest program against the kernel's own UAPI headers."""
    uapi = os.path.join(objdir(kernel, arch), "usr", "include")
    cmd = [ARCH[arch]["cc"], "-static", "-O2", "-g0", "-Wall", "-Werror",
           "-D_GNU_SOURCE", "-isystem", uapi, "-o", out, src, "-lpthread"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        die(f"compiling {src}:\n{res.stdout}{res.stderr}")


def build_initramfs(kernel, arch, ko, config, cpus, quick):
    """busybox, bench/guest/init, bpbench, the module, perf, the plan."""
    out = workdir(kernel, arch)
    os.makedirs(out, exist_ok=True)
    cpio = guest.Cpio()
    for d in ("bin", "dev", "etc", "etc/hwbp", "lib", "proc", "sys", "tmp",
              "root"):
        cpio.dir(d)
    cpio.symlink("sbin", "bin")
    busybox = ARCH[arch]["busybox"]
    if not os.path.exists(busybox):
        die(f"{busybox} missing: run 'make setup'")
    with open(busybox, "rb") as f:
        cpio.file("bin/busybox", f.read())
    for applet in guest.busybox_applets():
        if applet != "busybox":
            cpio.symlink(f"bin/{applet}", "busybox")
    with open(os.path.join(GUEST_SRC, "init"), "rb") as f:
        cpio.file("init", f.read())
    exe = os.path.join(out, "bpbench")
    compile_static(kernel, arch, os.path.join(GUEST_SRC, "bpbench.c"), exe)
    with open(exe, "rb") as f:
        cpio.file("bin/bpbench", f.read())
    with open(ko, "rb") as f:
        cpio.file("lib/hwbp_bench.ko", f.read(), 0o644)
    root = guest.DEBIAN[arch][0]
    if not os.path.exists(os.path.join(root, PERF.lstrip("/"))):
        die(f"Debian's perf for {arch} is not fetched: run 'make setup'")
    err = guest.pack_tools(cpio, arch, [PERF])
    if err:
        die(f"perf for {arch} not packed: {err}")
    text = "".join(f"{k} {t} {a}\n" for k, t, a, _ in plan(config, cpus, quick))
    cpio.file("etc/hwbp/bench", text.encode(), 0o644)
    path = os.path.join(out, f"initramfs-smp{cpus}.cpio.gz")
    cpio.write(path)
    return path


def kernel_name(kernel, config):
    return kernel + CONFIGS[config][0]


def prepare(kernel, arch, configs, cpus_of, quick):
    """Kernels, modules and initramfs, under the harness's build lock."""
    out = {}
    for config in configs:
        name = kernel_name(kernel, config)
        with build_lock():
            if kernel == "ours":
                tree.sync_ours()
            else:
                tree.unpack_base()
            log(f"bench: {name}/{arch}")
            image = kbuild.build(name, arch)
            ko = build_module(name, arch)
            for cpus in cpus_of[config]:
                out[(config, cpus)] = (image, build_initramfs(
                    name, arch, ko, config, cpus, quick))
    return out


# ---- running ----

# Shapes stock cannot run by design: 8 non-pinned watchpoints on 4
# registers (6.12 has no flexible breakpoints: the fifth gets ENOSPC).
# Their figures show as missing for stock, and are no error of the run.
STOCK_REFUSED = ("spin/b8", "/bin/bpbench: spin 8 ")


def stock_refuses(note):
    return any(k in note for k in STOCK_REFUSED)


LINE = re.compile(r"^@@@ (BENCHNA|BENCHERR|BENCH|SPLAT|TOOK|CLOCK|INIT) (.*)$")


def parse(text, expected):
    """Figures (None: failed or missing) and notes of one boot's console."""
    figures, notes = {}, []
    done = False
    for line in text.splitlines():
        line = line.strip()
        if line == "@@@ DONE":
            done = True
            continue
        m = LINE.match(line)
        if not m:
            continue
        kind, rest = m.groups()
        if kind == "BENCH":
            key, value = rest.split()[:2]
            if key == "kmod/grow/1":
                continue	# see plan()
            figures[key] = float(value)
        elif kind in ("BENCHNA", "BENCHERR"):
            key, why = (rest.split(None, 1) + [""])[:2]
            # "/bin/prog ... exited N" names a command, not a figure: the
            # figures it owed show as missing below.
            if not key.startswith("/"):
                figures.setdefault(key, None)
            notes.append(f"{kind.lower()} {key}: {why}")
        elif kind == "SPLAT":
            notes.append(f"splat {rest}")
        elif kind == "CLOCK":
            notes.append(f"clocksource {rest}")
        elif kind == "INIT":
            notes.append(f"init {rest}")
    for key in expected:
        if key not in figures:
            figures[key] = None
            notes.append(f"missing {key}")
    if not done:
        notes.append("error: the guest did not reach @@@ DONE")
    return figures, notes


# Ratios within one boot: a figure (matched) over its floor (the same
# match with the floor's template), saved as overhead/ + the figure's
# key with the overhead prefix below.
OVERHEADS = (
    # b>0 over b0 of the same shape
    (r"^thread/(p\d+_t\d+)_b([1-9]\d*)$", "thread/{0}_b0", "overhead/thread/{0}_b{1}"),
    (r"^perf/thread/(p\d+_t\d+)_b([1-9]\d*)$", "perf/thread/{0}_b0",
     "overhead/perf/{0}_b{1}"),
    # inherit: software events over none, breakpoints over as many
    # software events
    (r"^inherit/(p\d+_t\d+)_b([1-9]\d*)_sw$", "inherit/{0}_b0_sw",
     "overhead/inherit/{0}_b{1}_sw"),
    (r"^inherit/(p\d+_t\d+)_b([1-9]\d*)_bp$", "inherit/{0}_b{1}_sw",
     "overhead/inherit/{0}_b{1}_bp"),
    # rotation: 8 flexible watchpoints on 4 registers over 4
    (r"^spin/b(8)$", "spin/b4", "overhead/spin/b{0}"),
)


def derive(figures):
    """The OVERHEADS ratios of one boot's figures (None if one is missing)."""
    extra = {}
    for key, v in figures.items():
        for pattern, floor_key, dst in OVERHEADS:
            m = re.match(pattern, key)
            if m:
                floor = figures.get(floor_key.format(*m.groups()))
                extra[dst.format(*m.groups())] = \
                    v / floor if v and floor else None
    return extra


def boot_timeout(cpus, quick):
    return (600 if quick else 1500) + 10 * cpus


def boot_one(job, logdir, quick):
    """One guest; returns the run record."""
    arch, config, cpus, kernel, rnd, image, initrd = job
    name = kernel_name(kernel, config)
    logfile = os.path.join(logdir, f"{arch}-{config}-smp{cpus}-{kernel}-"
                           f"{rnd}.log")
    expected = [k for *_, keys in plan(config, cpus, quick) for k in keys]
    start = time.monotonic()
    text, timed_out = qemu.boot(arch, image, initrd, "bench", logfile,
                                boot_timeout(cpus, quick), append=BOOT_ARGS,
                                machine=machine(arch, cpus), quiet=True)
    secs = time.monotonic() - start
    figures, notes = parse(text, expected)
    if timed_out:
        notes.append(f"error: timed out after {boot_timeout(cpus, quick)}s")
    figures.update(derive(figures))
    figures = {f"smp{cpus}/{k}": v for k, v in figures.items()}
    bad = [n for n in notes if not n.startswith(("clocksource", "init"))]
    log(f"{arch} {config} smp{cpus} {name} round {rnd}: "
        f"{sum(v is not None for v in figures.values())} figures, "
        f"{secs:.0f}s" + (f"; {'; '.join(bad)}" if bad else ""))
    return {"arch": arch, "config": config, "cpus": cpus, "kernel": kernel,
            "round": rnd, "seconds": round(secs, 1), "figures": figures,
            "notes": notes, "console": os.path.relpath(logfile, TOP)}


def schedule(arches, configs, cpus_of, rounds):
    """Boot order: per round, per shape, the pair stock/ours in ABBA order
    (round 1: stock first, round 2: ours first, ...)."""
    jobs = []
    for rnd in range(1, rounds + 1):
        for arch in arches:
            for config in configs:
                for cpus in cpus_of[config]:
                    pair = ("stock", "ours") if rnd % 2 else ("ours", "stock")
                    for kernel in pair:
                        jobs.append((arch, config, cpus, kernel, rnd))
    return jobs


# ---- statistics ----

# Two-sided 95% quantiles of Student's t, by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447,
        7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131,
        20: 2.086, 30: 2.042}


def t975(df):
    best = min((d for d in T975 if d >= df), default=None)
    return T975[best] if best else 1.960


def paired(stock, ours):
    """Per-round pairs -> (geometric mean ratio, lo, hi, n) or None."""
    logs = [math.log(o / s) for s, o in zip(stock, ours)
            if s and o and s > 0 and o > 0]
    n = len(logs)
    if n == 0:
        return None
    mean = statistics.fmean(logs)
    if n == 1:
        return math.exp(mean), None, None, 1
    half = t975(n - 1) * statistics.stdev(logs) / math.sqrt(n)
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half), n


def verdict(p):
    if p is None:
        return "missing"
    ratio, lo, hi, n = p
    if lo is None:
        return "one round only"
    if lo > 1.0:
        return "**slower**"
    if hi < 1.0:
        return "faster"
    return "same" if hi <= 1.02 else "same, but bound > 1.02"


def summarise(runs, arch, config):
    """Table rows for one (arch, config)."""
    mine = [r for r in runs if r["arch"] == arch and r["config"] == config]
    keys = sorted({k for r in mine for k in r["figures"]}, key=sort_key)
    rounds = sorted({r["round"] for r in mine})
    rows = []
    for key in keys:
        by = {}
        for kernel in ("stock", "ours"):
            # The boot of this round whose shape holds the key.
            by[kernel] = [next((r["figures"][key] for r in mine
                                if r["kernel"] == kernel and
                                r["round"] == rnd and key in r["figures"]),
                               None) for rnd in rounds]
        label, unit, cpus = describe(key)
        med = {k: (statistics.median([v for v in vals if v is not None])
                   if any(v is not None for v in vals) else None)
               for k, vals in by.items()}
        spread = {}
        for k, vals in by.items():
            vs = [v for v in vals if v is not None]
            spread[k] = (100 * (max(vs) - min(vs)) / 2 / med[k]
                         if len(vs) > 1 and med[k] else None)
        missing = {k: sum(v is None for v in vals) for k, vals in by.items()}
        p = paired(by["stock"], by["ours"])
        rows.append({"key": key, "label": label, "unit": unit, "cpus": cpus,
                     "stock": med["stock"], "ours": med["ours"],
                     "spread": spread, "missing": missing,
                     "values": by, "paired": p, "verdict": verdict(p)})
    return rows


# ---- reporting ----

def fmt(v):
    if v is None:
        return "missing"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}"


def fmt_cell(row, kernel, rounds):
    v = row[kernel]
    miss = row["missing"][kernel]
    text = fmt(v)
    if v is not None and row["spread"][kernel] is not None:
        text += f" ±{row['spread'][kernel]:.1f}%"
    if miss:
        text += f" ({miss} of {rounds} missing)"
    return text


def fmt_ratio(p):
    if p is None:
        return "missing", ""
    ratio, lo, hi, n = p
    if lo is None:
        return f"{ratio:.3f}", ""
    return f"{ratio:.3f}", f"{lo:.3f}–{hi:.3f}"


HEADLINE = (
    "smp64/overhead/perf/p64_t64_b4",
    "smp64/perf/thread/p64_t64_b4",
    "smp64/overhead/inherit/p64_t16_b4_bp",
    "smp4/hits/count",
    "smp4/pingpong/b4",
    "smp4/ptrace/writes",
    "smp4/kmod/task_all/10000",
)


def write_results(runs, meta, outdir):
    tables = {}
    for arch in meta["arches"]:
        for config in meta["configs"]:
            tables[(arch, config)] = summarise(runs, arch, config)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"meta": meta, "runs": runs,
                   "summary": {f"{a}/{c}": rows
                               for (a, c), rows in tables.items()}},
                  f, indent=1)
    with open(os.path.join(outdir, "results.csv"), "w") as f:
        f.write("arch,config,vcpus,round,kernel,key,value,unit\n")
        for r in runs:
            for key in sorted(r["figures"], key=sort_key):
                v = r["figures"][key]
                f.write(f"{r['arch']},{r['config']},{r['cpus']},{r['round']},"
                        f"{r['kernel']},{key},{'' if v is None else v},"
                        f"{describe(key)[1]}\n")

    md = [f"# make bench: ours vs stock Linux {meta['base_version']}\n"]
    md.append(
        f"Generated by `make bench` ({meta['started']} to {meta['finished']}"
        f", {meta['rounds']} rounds{', QUICK' if meta['quick'] else ''}). "
        "Every figure is a cost: **lower is better**. Per kernel: the "
        "median over the rounds (each round one boot; each figure inside a "
        "boot is the median of its repetitions), ± half the range over the "
        "rounds. **ratio** = ours/stock, the geometric mean of the "
        "per-round ratios (each round boots both kernels), with its 95% "
        "confidence interval (Student's t over the log ratios). **Verdict**: "
        "*slower* when the whole interval lies above 1.00, *faster* when "
        "below, *same* otherwise (and *bound > 1.02* when the interval "
        "reaches past +2%).\n")
    md.append(
        "**What the time is.** QEMU runs each guest with `-icount "
        "shift=0,sleep=off,align=off -rtc clock=vm`: the guest's clock "
        "advances one nanosecond per instruction executed, by any vCPU, and "
        "skips idle time. A figure is a path length, independent of the "
        "host's load (both kernels of a round run at once); it does **not** "
        "model caches, memory latency, TLB misses or real lock contention: "
        "the vCPUs take turns on one host thread, so a contended lock costs "
        "its instructions, not the wait of real parallel hardware.\n")
    md.append(f"- host: {meta['host']}\n- QEMU: {meta['qemu']}")
    for arch in meta["arches"]:
        md.append(f"- {arch}: `{' '.join(machine(arch, 'N'))}`, kernel "
                  f"parameters `{' '.join(BOOT_ARGS)}`")
    md.append("- kernels: *bench* = the `configs/` fragments of `make "
              "check` with `configs/bench.config` over them (no lockdep, "
              "KUnit or other debugging; NO_HZ_IDLE; NR_CPUS=64); *debug* "
              "= exactly the `make check` kernels (lockdep, PROVE_RCU, "
              "DEBUG_LIST, ...), 4 vCPUs only")
    md.append("- guest programs: `bench/guest/bpbench.c`, Debian's "
              "linux-perf (`perf bench breakpoint`, the usecs/op line), "
              "`bench/module/hwbp_bench.c`; the plan per shape is in "
              "results.json\n")

    md.append("## Headline\n")
    md.append("| arch | config | figure | stock | ours | ratio | 95% CI | "
              "verdict |")
    md.append("| --- | --- | --- | ---: | ---: | ---: | --- | --- |")
    for (arch, config), rows in tables.items():
        if config != "bench":
            continue
        for key in HEADLINE:
            row = next((r for r in rows if r["key"] == key), None)
            if row:
                ratio, ci = fmt_ratio(row["paired"])
                md.append(f"| {arch} | {config} | {row['cpus']} vCPUs: "
                          f"{row['label']} | {fmt(row['stock'])} | "
                          f"{fmt(row['ours'])} | {ratio} | {ci} | "
                          f"{row['verdict']} |")
    md.append("")

    for (arch, config), rows in tables.items():
        md.append(f"## {arch}, {config} kernels\n")
        md.append("| vCPUs | workload | unit | stock | ours | ratio | 95% CI "
                  "| verdict |")
        md.append("| ---: | --- | --- | ---: | ---: | ---: | --- | --- |")
        for row in rows:
            ratio, ci = fmt_ratio(row["paired"])
            md.append(f"| {row['cpus']} | {row['label']} | {row['unit']} | "
                      f"{fmt_cell(row, 'stock', meta['rounds'])} | "
                      f"{fmt_cell(row, 'ours', meta['rounds'])} | {ratio} | "
                      f"{ci} | {row['verdict']} |")
        md.append("")
    md.append("![scaling curves](results.png)\n")

    md.append("## Flagged\n")
    flagged = [(a, c, r) for (a, c), rows in tables.items() for r in rows
               if r["verdict"] not in ("same", "faster")]
    if flagged:
        for a, c, r in flagged:
            ratio, ci = fmt_ratio(r["paired"])
            md.append(f"- {a} {c}, {r['cpus']} vCPUs, {r['label']}: "
                      f"{ratio} ({ci or 'no interval'}), {r['verdict']}")
        md.append("")
    else:
        md.append("Nothing: every ratio's interval reaches below 1.02.\n")
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            md.append(f.read())
    md.append("## Boots\n")
    md.append("| arch | config | vCPUs | round | kernel | wall s | notes |")
    md.append("| --- | --- | ---: | ---: | --- | ---: | --- |")
    for r in runs:
        notes = "; ".join(n for n in r["notes"] if not n.startswith("init"))
        md.append(f"| {r['arch']} | {r['config']} | {r['cpus']} | "
                  f"{r['round']} | {r['kernel']} | "
                  f"{'' if r['seconds'] is None else r['seconds']} | "
                  f"{notes.replace('|', '/')} |")
    md.append("\nRaw numbers: [results.csv](results.csv), "
              "[results.json](results.json) (the console log of each "
              "boot is under `build/bench/logs/`).\n")
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md))
    plot(tables, meta, outdir)
    return tables


def plot(tables, meta, outdir):
    """Per arch: usecs/op of perf bench thread against vCPUs (b0, b4), and
    the in-kernel create+release against the tasks holding watchpoints."""
    if not shutil.which("gnuplot"):
        log("gnuplot missing (make setup installs gnuplot-nox): no plot")
        return
    data = os.path.join(BUILD, "bench", "plot")
    os.makedirs(data, exist_ok=True)
    def curve(rows, pattern, kernel, name):
        """Write (x, median) of the rows whose key matches pattern (x: its
        group); returns the data file, or None if no row has a value."""
        pts = []
        for key, r in rows.items():
            m = re.match(pattern, key)
            if m and r[kernel] is not None:
                pts.append((int(m.group(1)), r[kernel]))
        if not pts:
            return None
        path = os.path.join(data, name)
        with open(path, "w") as f:
            f.writelines(f"{x} {y}\n" for x, y in sorted(pts))
        return path

    titles = {"cpu": "CPU bp", "task_all": "task bp",
              "task_one": "task bp on one CPU",
              "sw_task": "floor (task cpu-clock)"}
    panels = []
    for arch in meta["arches"]:
        rows = {r["key"]: r for r in tables.get((arch, "bench"), [])}
        curves = []
        for b in (0, 4):
            for kernel in ("stock", "ours"):
                path = curve(rows, rf"^smp(\d+)/perf/thread/p\d+_t64_b{b}$",
                             kernel, f"{arch}-cpus-b{b}-{kernel}.dat")
                if path:
                    curves.append((path, f"-b {b} {kernel}", b, kernel))
        panels.append((f"{arch}: perf bench breakpoint thread -p CPUs -t 64",
                       "vCPUs", "usecs/op", curves, True))
        curves = []
        for what, title in titles.items():
            for kernel in ("stock", "ours"):
                path = curve(rows, rf"^smp4/kmod/{what}/(\d+)$", kernel,
                             f"{arch}-kmod-{what}-{kernel}.dat")
                if path:
                    curves.append((path, f"{title} {kernel}", what, kernel))
        panels.append((f"{arch}, 4 vCPUs: create+release vs task breakpoints",
                       "tasks holding a watchpoint", "ns per create+release",
                       curves, True))
    if not any(p[3] for p in panels):
        return
    script = [f"set terminal pngcairo size 1400,{520 * len(meta['arches'])} "
              "font ',10' noenhanced",
              f"set output '{os.path.join(outdir, 'results.png')}'",
              f"set multiplot layout {len(meta['arches'])},2",
              "set grid", "set key top left"]
    for title, xl, yl, curves, logx in panels:
        colours = {}
        plots = []
        for name, t, group, kernel in curves:
            lc = colours.setdefault(group, len(colours) + 1)
            dash = "dt 1" if kernel == "ours" else "dt 2"
            plots.append(f"'{name}' using 1:2 with linespoints lc {lc} {dash} "
                         f"lw 2 title '{t}'")
        script += [f"set title '{title}'", f"set xlabel '{xl}'",
                   f"set ylabel '{yl}'",
                   "set logscale x" if logx else "unset logscale x",
                   f"plot {', '.join(plots) or 'NaN notitle'}"]
    script.append("unset multiplot")
    res = subprocess.run(["gnuplot"], input="\n".join(script), text=True,
                         capture_output=True)
    if res.returncode:
        log(f"gnuplot failed: {res.stderr.strip()}")


# ---- main ----

def qemu_version(arch):
    out = subprocess.run([machine(arch, 1)[0], "--version"],
                         capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def host():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} "
            f"{platform.release()}")


LOG_NAME = re.compile(r"^(x86_64|arm64)-(bench|debug)-smp(\d+)-(stock|ours)-"
                      r"(\d+)\.log$")


def report_from_logs(args):
    """The report of the complete rounds found in build/bench/logs."""
    logdir = os.path.join(BUILD, "bench", "logs")
    runs = []
    for name in sorted(os.listdir(logdir)):
        m = LOG_NAME.match(name)
        if not m:
            continue
        arch, config, cpus, kernel, rnd = m.groups()
        cpus, rnd = int(cpus), int(rnd)
        with open(os.path.join(logdir, name), errors="replace") as f:
            text = f.read()
        if "@@@ DONE" not in text:
            continue
        expected = [k for *_, keys in plan(config, cpus, args.quick)
                    for k in keys]
        figures, notes = parse(text, expected)
        figures.update(derive(figures))
        runs.append({"arch": arch, "config": config, "cpus": cpus,
                     "kernel": kernel, "round": rnd, "seconds": None,
                     "figures": {f"smp{cpus}/{k}": v
                                 for k, v in figures.items()},
                     "notes": notes,
                     "console": os.path.relpath(os.path.join(logdir, name),
                                                TOP)})
    shapes = {(r["arch"], r["config"], r["cpus"]) for r in runs}
    complete = [rnd for rnd in sorted({r["round"] for r in runs})
                if all(any(r["round"] == rnd and (r["arch"], r["config"],
                                                  r["cpus"]) == sh and
                           r["kernel"] == k for r in runs)
                       for sh in shapes for k in ("stock", "ours"))]
    runs = [r for r in runs if r["round"] in complete]
    arches = sorted({r["arch"] for r in runs}, reverse=True)
    configs = [c for c in CONFIGS if any(r["config"] == c for r in runs)]
    meta = {
        "base_version": base_version(), "arches": arches, "configs": configs,
        "cpus": {c: sorted({r["cpus"] for r in runs if r["config"] == c})
                 for c in configs},
        "rounds": len(complete), "quick": args.quick,
        "started": "see the console logs", "finished": time.strftime(
            "%Y-%m-%d %H:%M") + " (from the logs of the complete rounds)",
        "host": host(), "qemu": qemu_version(arches[0]),
        "machines": {a: machine(a, "N") for a in arches},
        "boot_args": BOOT_ARGS,
        "plan": {f"{c}/smp{n}": [" ".join(map(str, p[:3]))
                                 for p in plan(c, n, args.quick)]
                 for c in configs for n in CONFIGS[c][1]},
    }
    write_results(runs, meta, args.out)
    log(f"bench: report of {len(complete)} complete round(s), "
        f"{len(runs)} boots")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="2 rounds, the production kernels on 4 and 16 "
                         "vCPUs, fewer repetitions")
    ap.add_argument("--arch", default="x86_64,arm64")
    ap.add_argument("--config", default="bench,debug")
    ap.add_argument("--cpus", help="only these vCPU counts (e.g. 4,64)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="guests at once (default 2: the host's cores)")
    ap.add_argument("--out", default=HERE,
                    help="where results.{md,png,csv,json} go (default bench/)")
    ap.add_argument("--report", metavar="JSON",
                    help="only rewrite the report (tables, plot, CSV) from "
                         "an earlier run's results.json")
    ap.add_argument("--from-logs", action="store_true",
                    help="only write the report from the console logs of "
                         "the boots that completed (an interrupted run), "
                         "rounds in which every shape has both kernels")
    args = ap.parse_args(argv)
    if args.report:
        with open(args.report) as f:
            old = json.load(f)
        write_results(old["runs"], old["meta"], args.out)
        return 0
    if args.from_logs:
        return report_from_logs(args)
    arches = args.arch.split(",")
    configs = args.config.split(",")
    for a in arches:
        if a not in ARCH:
            die(f"unknown arch {a}")
    for c in configs:
        if c not in CONFIGS:
            die(f"unknown config {c}")
    rounds = 2 if args.quick and args.rounds == 5 else args.rounds
    if args.quick:
        configs = [c for c in configs if QUICK_CPUS[c]]
        # A smoke run leaves the committed results alone.
        if args.out == HERE:
            args.out = os.path.join(BUILD, "bench", "quick")
    cpus_of = {}
    for c in configs:
        cpus_of[c] = QUICK_CPUS[c] if args.quick else CONFIGS[c][1]
        if args.cpus:
            want = [int(x) for x in args.cpus.split(",")]
            cpus_of[c] = tuple(x for x in cpus_of[c] if x in want)
    os.makedirs(args.out, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M")
    t0 = time.monotonic()

    tree.unpack_base()
    built = {}
    for arch in arches:
        for kernel in ("stock", "ours"):
            for shape, files in prepare(kernel, arch, configs, cpus_of,
                                        args.quick).items():
                built[(arch, kernel) + shape] = files
    log(f"bench: kernels ready after {time.monotonic() - t0:.0f}s")

    logdir = os.path.join(BUILD, "bench", "logs")
    os.makedirs(logdir, exist_ok=True)
    jobs = []
    for arch, config, cpus, kernel, rnd in schedule(arches, configs, cpus_of,
                                                   rounds):
        image, initrd = built[(arch, kernel, config, cpus)]
        jobs.append((arch, config, cpus, kernel, rnd, image, initrd))
    log(f"bench: {len(jobs)} boots, {args.jobs} at once")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda j: boot_one(j, logdir, args.quick), jobs))

    meta = {
        "base_version": base_version(), "arches": arches, "configs": configs,
        "cpus": cpus_of, "rounds": rounds, "quick": args.quick,
        "started": started, "finished": time.strftime("%Y-%m-%d %H:%M"),
        "wall_seconds": round(time.monotonic() - t0), "host": host(),
        "qemu": qemu_version(arches[0]),
        "machines": {a: machine(a, "N") for a in arches},
        "boot_args": BOOT_ARGS,
        "plan": {f"{c}/smp{n}": [" ".join(map(str, p[:3]))
                                 for p in plan(c, n, args.quick)]
                 for c in configs for n in cpus_of[c]},
    }
    tables = write_results(runs, meta, args.out)
    print()
    for (arch, config), rows in tables.items():
        print(f"{arch}, {config}:")
        for r in rows:
            ratio, ci = fmt_ratio(r["paired"])
            print(f"  {r['cpus']:>2} {r['label'][:62]:62} "
                  f"{fmt(r['stock']):>10} {fmt(r['ours']):>10} {ratio:>6} "
                  f"{ci:>13}  {r['verdict']}")
    log(f"bench: done in {time.monotonic() - t0:.0f}s; "
        f"{os.path.relpath(os.path.join(args.out, 'results.md'), TOP)}")
    errors = [n for r in runs for n in r["notes"]
              if n.startswith(("error", "bencherr", "splat", "missing"))
              and not (r["kernel"] == "stock" and stock_refuses(n))]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
