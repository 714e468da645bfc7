#!/usr/bin/env python3
"""make bench: our kernel against the stock 6.12 kernel, side by side.

  bench/bench.py [--rounds N] [--kernels stock,ours] [--quick] [--out DIR]
  bench/bench.py --report bench/results.json   redo the report only

Builds both x86_64 kernels through the harness (under its build lock),
builds the in-kernel microbenchmark (bench/module) against each and a
benchmark initramfs (bench/guest), then boots the kernels in turn
(stock, ours, stock, ours, ...) under identical QEMU settings, N rounds.
Each guest runs the same plan (PLAN below) and prints its figures on the
console. Writes, in --out (default bench/):

  results.md    the table: median, min-max per kernel, ratio ours/stock
  results.png   the scaling curves (gnuplot)
  results.csv   every figure of every round
  results.json  the same plus the machine state before each boot

Every figure is a cost (time per operation or per run): lower is better,
and a ratio ours/stock below 1.00 means ours is faster.
"""

import argparse
import json
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

# The plan every guest runs: (kind, timeout s, arguments); see
# bench/guest/init. Sizes are picked to finish under QEMU TCG on a 2-core
# host; --quick divides the repetitions for a smoke run.
THREAD_SHAPES = ((8, 8), (4, 64))
THREAD_BPS = (0, 1, 2, 4)


def thread_bps(threads):
    """Breakpoints per thread to try: the big shape skips 2 (run time)."""
    return THREAD_BPS if threads <= 8 else (0, 1, 4)


def plan(quick):
    reps = 1 if quick else 5
    lines = []
    for p, t in THREAD_SHAPES:
        for b in thread_bps(t):
            lines.append(("run", 300, f"/bin/bpbench thread {p} {t} {b} {reps}"))
    lines += [
        ("run", 120, f"/bin/bpbench hits none 20000000 {reps}"),
        ("run", 300, f"/bin/bpbench hits count 20000 {reps}"),
    ]
    for b in (0, 1, 4):
        lines.append(("run", 120, f"/bin/bpbench pingpong {b} 5000 {reps}"))
    for p, t in THREAD_SHAPES:
        for b in thread_bps(t):
            lines.append(("perf", 300, f"perf/thread/p{p}_t{t}_b{b} "
                          f"thread -b {b} -p {p} -t {t}"))
    for p, a in ((4, 0), (0, 4), (4, 4)):
        lines.append(("perf", 300, f"perf/enable/p{p}_a{a} enable -p {p} -a {a}"))
    counts = "1,100,1000" if quick else "1,100,1000,10000"
    iters = 100 if quick else 400
    lines.append(("module", 1200, f"counts={counts} iters={iters}"))
    return lines


# How each figure is shown: a key pattern, its label and unit.
UNITS = (
    (r"^thread/p(\d+)_t(\d+)_b(\d+)$",
     "bpbench thread: {0} procs x {1} threads, {2} bps each", "us/run"),
    (r"^perf/thread/p(\d+)_t(\d+)_b(\d+)$",
     "perf bench breakpoint thread -p {0} -t {1} -b {2}", "us/run"),
    (r"^perf/enable/p(\d+)_a(\d+)$",
     "perf bench breakpoint enable -p {0} -a {1}", "us/run"),
    (r"^hits/none$", "write loop, no watchpoint", "ns/write"),
    (r"^hits/count$", "write loop, counting watchpoint (every write hits)",
     "ns/write"),
    (r"^pingpong/b(\d+)$",
     "pipe ping-pong on one CPU, {0} watchpoints per thread", "ns/round trip"),
    (r"^kmod/grow/(\d+)$",
     "kmod: add a task watchpoint (+kthread), up to {0} tasks", "ns/op"),
    (r"^kmod/cpu/(\d+)$", "kmod: CPU bp create+release, {0} task bps",
     "ns/op"),
    (r"^kmod/task_all/(\d+)$",
     "kmod: task bp (all CPUs) create+release, {0} task bps", "ns/op"),
    (r"^kmod/task_one/(\d+)$",
     "kmod: task bp (one CPU) create+release, {0} task bps", "ns/op"),
    (r"^kmod/sw_cpu/(\d+)$",
     "kmod: CPU sw dummy event (perf floor), {0} task bps", "ns/op"),
    (r"^kmod/sw_task/(\d+)$",
     "kmod: task sw dummy event (perf floor), {0} task bps", "ns/op"),
    (r"^overhead/thread/p(\d+)_t(\d+)_b(\d+)$",
     "thread {0}x{1}: b{2} / b0 (accounting overhead)", "x"),
    (r"^overhead/perf/p(\d+)_t(\d+)_b(\d+)$",
     "perf thread {0}x{1}: b{2} / b0 (accounting overhead)", "x"),
)


def describe(key):
    for pattern, label, unit in UNITS:
        m = re.match(pattern, key)
        if m:
            return label.format(*m.groups()), unit
    return key, "?"


def sort_key(key):
    """Table order: groups as in UNITS, numbers numerically."""
    for i, (pattern, _, _) in enumerate(UNITS):
        m = re.match(pattern, key)
        if m:
            return (i, [int(g) for g in m.groups()])
    return (len(UNITS), [key])


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


def build_module(kernel, arch):
    """hwbp_bench.ko for one kernel, built out of tree in build/bench/."""
    dst = os.path.join(BUILD, "bench", f"{kernel}-{arch}", "module")
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


def build_initramfs(kernel, arch, ko, quick):
    """busybox, bench/guest/init, bpbench, the module, perf if fetched."""
    out = os.path.join(BUILD, "bench", f"{kernel}-{arch}")
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

    # Debian's perf (harness/deps.sh fetches it for the clients suite):
    # without it the perf figures are reported as n/a.
    perf_note = None
    pack = getattr(guest, "pack_tools", None)
    root = getattr(guest, "DEBIAN", {}).get(arch, (None,))[0]
    if pack is None or root is None or \
            not os.path.exists(os.path.join(root, PERF.lstrip("/"))):
        perf_note = "Debian's perf is not fetched (make setup)"
    else:
        err = pack(cpio, arch, [PERF])
        if err:
            perf_note = f"perf not packed: {err}"
    text = "".join(f"{k} {t} {a}\n" for k, t, a in plan(quick))
    cpio.file("etc/hwbp/bench", text.encode(), 0o644)
    path = os.path.join(out, "initramfs.cpio.gz")
    cpio.write(path)
    return path, perf_note


def prepare(kernel, arch, quick):
    """Kernel, module and initramfs, all under the harness's build lock."""
    with build_lock():
        if kernel == "ours":
            tree.sync_ours()
        else:
            tree.unpack_base()
        image = kbuild.build(kernel, arch)
        ko = build_module(kernel, arch)
        initrd, perf_note = build_initramfs(kernel, arch, ko, quick)
    return image, initrd, perf_note


# ---- running ----

def machine_state():
    """What else the host is doing: load, kernel builds, other QEMUs."""
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]

    def count(pattern):
        res = subprocess.run(["pgrep", "-fc", pattern], capture_output=True,
                             text=True)
        return int(res.stdout.strip() or 0)
    return {"time": time.strftime("%Y-%m-%d %H:%M:%S"),
            "loadavg": [float(x) for x in load],
            "kernel_builds": count("make -C .*O="),
            "qemus": count("^qemu-system")}


def wait_for_builds():
    """Do not start a boot while a harness build holds the lock: take it
    (waiting if needed) and let it go again at once."""
    with build_lock():
        pass


LINE = re.compile(r"^@@@ (BENCHNA|BENCHERR|BENCH|SPLAT|LOAD|TOOK|MEM|CLOCK) (.*)$")


def parse(text):
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
            figures[key] = float(value)
        elif kind == "BENCHNA":
            key, why = (rest.split(None, 1) + [""])[:2]
            figures.setdefault(key, None)
            notes.append(f"n/a {key}: {why}")
        elif kind in ("BENCHERR", "SPLAT"):
            notes.append(f"{kind.lower()} {rest}")
        elif kind == "TOOK":
            notes.append(f"took {rest}")
        elif kind == "CLOCK":
            notes.append(f"clocksource {rest}")
    if not done:
        notes.append("error: the guest did not reach @@@ DONE")
    return figures, notes


def derive(figures):
    """Ratios computed within one boot: b>0 over b0 of the same shape."""
    extra = {}
    for key, v in figures.items():
        for prefix, dst in (("thread/", "overhead/thread/"),
                            ("perf/thread/", "overhead/perf/")):
            m = re.match("^" + re.escape(prefix) + r"(p\d+_t\d+)_b(\d+)$", key)
            if m and m.group(2) != "0" and v is not None:
                floor = figures.get(f"{prefix}{m.group(1)}_b0")
                if floor:
                    extra[f"{dst}{m.group(1)}_b{m.group(2)}"] = v / floor
    return extra


def boot_round(kernel, arch, image, initrd, rnd, outdir):
    state = machine_state()
    logfile = os.path.join(outdir, f"console-{kernel}-{rnd}.log")
    start = time.monotonic()
    text, timed_out = qemu.boot(arch, image, initrd, "bench", logfile,
                                BOOT_TIMEOUT,
                                append=BOOT_ARGS)
    secs = time.monotonic() - start
    figures, notes = parse(text)
    if timed_out:
        notes.append(f"error: timed out after {BOOT_TIMEOUT}s")
    figures.update(derive(figures))
    state_after = machine_state()
    log(f"{kernel} round {rnd}: {len(figures)} figures, {secs:.0f}s, "
        f"load {state['loadavg'][0]:.2f} -> {state_after['loadavg'][0]:.2f}")
    for n in notes:
        if not n.startswith("took"):
            log(f"  {n}")
    return {"kernel": kernel, "round": rnd, "seconds": round(secs, 1),
            "before": state, "after": state_after, "figures": figures,
            "notes": notes, "console": os.path.relpath(logfile, TOP)}


BOOT_TIMEOUT = 900


def host_tsc_khz():
    """The host's TSC rate (x86 hosts with a constant TSC), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return None
    if " constant_tsc" not in text:
        return None
    m = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", text, re.M)
    return round(float(m.group(1)) * 1000) if m else None


def boot_args():
    """KUnit's boot-time suites off (benchmarks only), and a usable clock.

    The guest's clocksource would be jiffies (4 ms steps at HZ=250): QEMU's
    qemu64 CPU says AuthenticAMD and the guest has 4 sockets, so Linux calls
    the TSCs unsynchronised, and with no ACPI there is no HPET or PM timer
    to calibrate the TSC against (PIT calibration fails under load). Under
    TCG every vCPU reads one counter derived from the host's TSC, so the
    guest is told so (tsc=reliable) and given the host's TSC rate.
    """
    args = ["kunit.enable=0", "tsc=reliable"]
    khz = host_tsc_khz()
    if khz:
        args.append(f"tsc_early_khz={khz}")
    return tuple(args + ["quiet"])


BOOT_ARGS = boot_args()


# ---- reporting ----

def summary(runs, kernel, key):
    vals = [r["figures"].get(key) for r in runs if r["kernel"] == kernel]
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals),
            "max": max(vals), "n": len(vals)}


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}"


def verdict(s, o):
    """'<= 1' ratios pass; a higher one passes when the ranges overlap."""
    if s is None or o is None:
        return None, "n/a"
    ratio = o["median"] / s["median"] if s["median"] else float("nan")
    if ratio <= 1.0:
        return ratio, "ok"
    if o["min"] <= s["max"]:
        return ratio, "ok (within spread)"
    return ratio, "**> 1: see notes**"


def spread(x):
    if x is None or not x["median"]:
        return "n/a"
    return f"{fmt(x['min'])}–{fmt(x['max'])} (±{50 * (x['max'] - x['min']) / x['median']:.0f}%)"


def write_results(runs, meta, outdir):
    keys = sorted({k for r in runs for k in r["figures"]}, key=sort_key)
    kernels = meta["kernels"]
    rows = []
    for key in keys:
        label, unit = describe(key)
        s = summary(runs, "stock", key) if "stock" in kernels else None
        o = summary(runs, "ours", key) if "ours" in kernels else None
        ratio, ok = verdict(s, o)
        rows.append({"key": key, "label": label, "unit": unit, "stock": s,
                     "ours": o, "ratio": ratio, "verdict": ok})

    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"meta": meta, "runs": runs, "summary": rows}, f, indent=1)
    with open(os.path.join(outdir, "results.csv"), "w") as f:
        f.write("round,kernel,key,value,unit\n")
        for r in runs:
            for key in sorted(r["figures"], key=sort_key):
                v = r["figures"][key]
                f.write(f"{r['round']},{r['kernel']},{key},"
                        f"{'' if v is None else v},{describe(key)[1]}\n")

    md = []
    md.append("# make bench: ours vs stock Linux "
              f"{meta['base_version']} (x86_64)\n")
    md.append(f"Generated by `make bench` ({meta['started']} to "
              f"{meta['finished']}, {meta['rounds']} rounds, kernels booted "
              f"alternately {' / '.join(kernels)} under identical QEMU "
              "settings). Every figure is a cost: **lower is better**; the "
              "ratio is ours/stock, below 1.00 means ours is faster. Median of "
              "the rounds (boots); each round's value is the fastest of the "
              "repetitions inside that guest (5 runs of each workload, 3 of "
              "each perf bench, 20 batches of the module's create+release "
              "pairs), since a "
              "shared, emulated host only ever adds time. Spread = min–max "
              "over the rounds (± half the range, in % of the median).\n")
    md.append(f"- host: {meta['host']}\n- QEMU: {meta['qemu']} "
              f"(`{' '.join(meta['qemu_cmd'])}`, TCG, kernel parameters "
              f"`{' '.join(BOOT_ARGS)}`)\n- both kernels: the same "
              "`configs/` fragments (lockdep and PROVE_RCU on, as in "
              "`make check`), built by the harness\n"
              f"- perf in the guest: {meta['perf']}\n")
    md.append("| workload | unit | stock | ours | ratio | spread stock | "
              "spread ours | |")
    md.append("| --- | --- | ---: | ---: | ---: | --- | --- | --- |")
    for row in rows:
        s, o = row["stock"], row["ours"]
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}"
        md.append(f"| {row['label']} | {row['unit']} | "
                  f"{fmt(s['median']) if s else 'n/a'} | "
                  f"{fmt(o['median']) if o else 'n/a'} | {ratio} | "
                  f"{spread(s)} | {spread(o)} | {row['verdict']} |")
    md.append("")
    md.append("![scaling curves](results.png)\n")
    flagged = [r for r in rows if r["verdict"].startswith("**")]
    md.append("## Ratios above 1.00 beyond the spread\n")
    if flagged:
        for r in flagged:
            md.append(f"- {r['label']}: {r['ratio']:.2f}")
        md.append("")
    else:
        md.append("None in this run.\n")
    # The hand-written analysis of the figures, kept across runs.
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            md.append(f.read())
    md.append("## Machine state before each boot\n")
    md.append("| round | kernel | loadavg (1/5/15 min) | kernel builds | "
              "other QEMUs | boot s | notes |")
    md.append("| ---: | --- | --- | ---: | ---: | ---: | --- |")
    for r in runs:
        b = r["before"]
        notes = "; ".join(n for n in r["notes"] if not n.startswith("took"))
        md.append(f"| {r['round']} | {r['kernel']} | "
                  f"{' '.join(f'{x:.2f}' for x in b['loadavg'])} | "
                  f"{b['kernel_builds']} | {b['qemus']} | {r['seconds']} | "
                  f"{notes.replace('|', '/')} |")
    md.append("\nRaw numbers: [results.csv](results.csv), "
              "[results.json](results.json) (also the console log of each "
              "boot, under `build/bench/`).\n")
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md))
    plot(rows, outdir)
    return rows


def plot(rows, outdir):
    """Two panels: the kmod scaling curves, and thread setup time vs bps."""
    if not shutil.which("gnuplot"):
        log("gnuplot missing (make setup installs gnuplot-nox): no plot")
        return
    data = os.path.join(BUILD, "bench", "plot")
    os.makedirs(data, exist_ok=True)
    by_key = {r["key"]: r for r in rows}
    series = []     # (file, title, panel)

    def point(kernel, key):
        x = by_key.get(key, {}).get(kernel)
        return x and (x["median"], x["min"], x["max"])

    for what in ("cpu", "task_all", "task_one", "sw_task"):
        for kernel in ("stock", "ours"):
            pts = []
            for key in by_key:
                m = re.match(rf"^kmod/{what}/(\d+)$", key)
                p = m and point(kernel, key)
                if p:
                    pts.append((int(m.group(1)), *p))
            if pts:
                name = os.path.join(data, f"kmod-{what}-{kernel}.dat")
                with open(name, "w") as f:
                    for p in sorted(pts):
                        f.write(" ".join(str(v) for v in p) + "\n")
                series.append((name, f"{what} {kernel}", 1, what))
    for p, t in THREAD_SHAPES:
        for kernel in ("stock", "ours"):
            pts = []
            for b in thread_bps(t):
                q = point(kernel, f"thread/p{p}_t{t}_b{b}")
                if q:
                    pts.append((b, *(v / 1000 for v in q)))
            if pts:
                name = os.path.join(data, f"thread-p{p}t{t}-{kernel}.dat")
                with open(name, "w") as f:
                    for q in pts:
                        f.write(" ".join(str(v) for v in q) + "\n")
                series.append((name, f"{p}x{t} {kernel}", 2, f"{p}x{t}"))
    if not series:
        return

    # One colour per curve, solid for ours, dashed for stock.
    colours = {}

    def plots(panel):
        out = []
        for name, title, pn, curve in series:
            if pn != panel:
                continue
            lc = colours.setdefault(curve, len(colours) + 1)
            dash = "dt 1" if title.endswith("ours") else "dt 2"
            out.append(f"'{name}' using 1:2:3:4 with yerrorlines lc {lc} "
                       f"{dash} lw 2 title '{title}'")
        return ", ".join(out)
    script = f"""
set terminal pngcairo size 1400,560 font ',10' noenhanced
set output '{os.path.join(outdir, "results.png")}'
set multiplot layout 1,2
set title 'in-kernel: create+release vs existing task breakpoints (median, min-max)'
set logscale x
set xlabel 'tasks holding a watchpoint'
set ylabel 'ns per create+release'
set key top left
set grid
plot {plots(1) or "NaN notitle"}
unset logscale x
set title 'bpbench thread: P procs x T threads, B watchpoints each'
set xlabel 'breakpoints per thread (B)'
set ylabel 'wall time per run (ms)'
set xtics 1
plot {plots(2) or "NaN notitle"}
unset multiplot
"""
    res = subprocess.run(["gnuplot"], input=script, text=True,
                         capture_output=True)
    if res.returncode:
        log(f"gnuplot failed: {res.stderr.strip()}")


# ---- main ----

def qemu_version(arch):
    out = subprocess.run([ARCH[arch]["qemu"][0], "--version"],
                         capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--kernels", default="stock,ours",
                    help="comma-separated, booted in this order each round")
    ap.add_argument("--quick", action="store_true",
                    help="one repetition per workload, smaller module run")
    ap.add_argument("--out", default=HERE,
                    help="where results.{md,png,csv,json} go (default bench/)")
    ap.add_argument("--report", metavar="JSON",
                    help="only rewrite the report (table, plot, CSV) from "
                         "an earlier run's results.json")
    args = ap.parse_args(argv)
    if args.report:
        with open(args.report) as f:
            old = json.load(f)
        write_results(old["runs"], old["meta"], args.out)
        return 0
    arch = "x86_64"
    kernels = args.kernels.split(",")
    for k in kernels:
        if k not in ("stock", "ours"):
            die(f"unknown kernel {k}")
    os.makedirs(args.out, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M")
    t0 = time.monotonic()

    tree.unpack_base()
    built = {}
    perf_notes = set()
    for kernel in kernels:
        log(f"bench: preparing {kernel}/{arch}")
        image, initrd, note = prepare(kernel, arch, args.quick)
        built[kernel] = (image, initrd)
        if note:
            perf_notes.add(note)
    log(f"bench: kernels ready after {time.monotonic() - t0:.0f}s")

    logdir = os.path.join(BUILD, "bench", "logs")
    os.makedirs(logdir, exist_ok=True)
    runs = []
    for rnd in range(1, args.rounds + 1):
        for kernel in kernels:
            wait_for_builds()
            image, initrd = built[kernel]
            runs.append(boot_round(kernel, arch, image, initrd, rnd, logdir))

    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    meta = {
        "base_version": base_version(), "kernels": kernels,
        "rounds": args.rounds, "quick": args.quick, "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M"),
        "wall_seconds": round(time.monotonic() - t0),
        "host": f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} "
                f"{platform.release()}",
        "qemu": qemu_version(arch),
        "qemu_cmd": ARCH[arch]["qemu"],
        "perf": "; ".join(sorted(perf_notes)) or
                "Debian's linux-perf (perf bench breakpoint)",
        "plan": [" ".join(map(str, p)) for p in plan(args.quick)],
    }
    rows = write_results(runs, meta, args.out)
    print()
    print(f"{'workload':58} {'unit':>13} {'stock':>10} {'ours':>10} "
          f"{'ratio':>6}  verdict")
    for r in rows:
        s, o = r["stock"], r["ours"]
        print(f"{r['label'][:58]:58} {r['unit']:>13} "
              f"{fmt(s['median']) if s else 'n/a':>10} "
              f"{fmt(o['median']) if o else 'n/a':>10} "
              f"{'n/a' if r['ratio'] is None else format(r['ratio'], '.2f'):>6}"
              f"  {r['verdict']}")
    log(f"bench: done in {time.monotonic() - t0:.0f}s; "
        f"{os.path.relpath(os.path.join(args.out, 'results.md'), TOP)}")
    errors = [n for r in runs for n in r["notes"]
              if n.startswith(("error", "bencherr", "splat"))]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
