#!/usr/bin/env python3
"""Build, boot and test our hardware-breakpoint kernels (see README.md).

  hwbp.py check [--arch A] [--kernel ours|stock]   every suite, summary line
  hwbp.py run                                       the x86_64 demo
  hwbp.py shell [--arch A] [--kernel K]             an interactive guest
  hwbp.py build [--arch A] [--kernel K]             just the kernel
  hwbp.py patches                                   export the series
  hwbp.py lint [--arch A]                           checkpatch, kernel-doc, W=1, sparse
  hwbp.py xbuild [--arch arm|powerpc|sh]            lint's cross builds alone
  hwbp.py bench [--rounds N] [--quick]              ours vs stock (bench/bench.py)
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import guest  # noqa: E402
import kbuild  # noqa: E402
import kunitpy  # noqa: E402
import lint  # noqa: E402
import mutate  # noqa: E402
import qemu  # noqa: E402
import results  # noqa: E402
import series  # noqa: E402
import tree  # noqa: E402
import test_results  # noqa: E402
import xbuild  # noqa: E402
import usertest  # noqa: E402
from common import (ARCHES, BUILD, GUEST_ARCHES, base_kernel, base_version,  # noqa: E402
                    build_lock, log, outdir)

BOOT_TIMEOUT = {"x86_64": 420, "arm64": 420, "arm": 420}

# Extra builds of our kernel that make check also runs (configs/<v>.config;
# which suites, on which arches: the "variant" lines of guest/suites.txt).
# FULL_VARIANTS only with make check FULL=1 (they do not fit CI's hour).
VARIANTS = ("kcsan",)
FULL_VARIANTS = ("kasan",)


def prepare(kernel, arch):
    """Tree, kernel and initramfs for one guest: (image, initrd, errors)."""
    with build_lock():
        if base_kernel(kernel) == "ours":
            tree.sync_ours()
        else:
            tree.unpack_base()
        image = kbuild.build(kernel, arch)
        initrd, errors = guest.build_initramfs(kernel, arch)
    return image, initrd, errors


def check_one(kernel, arch):
    kunit, suites, expects, boot = guest.manifest(arch, kernel)
    t0 = time.monotonic()
    try:
        image, initrd, errors = prepare(kernel, arch)
    except SystemExit as e:
        s = results.Suite("build")
        s.fail(f"kernel or initramfs build failed ({e.code})")
        return [s]
    built = time.monotonic() - t0
    logfile = os.path.join(outdir(kernel, arch), "console.log")
    # The sanitizer variants run everything several times slower.
    timeout = BOOT_TIMEOUT[arch] * (2 if "+" in kernel else 1)
    text, timed_out = qemu.boot(arch, image, initrd, "check", logfile,
                                timeout,
                                append=tuple(boot.values()) +
                                tuple(guest.cmdline(arch, kernel)))
    res = results.parse_console(text, kunit, suites, errors, timed_out,
                                boot_suites=boot,
                                allowed=guest.allowed(arch, kernel))
    results.apply_expectations(res, base_kernel(kernel), expects)
    log(f"{kernel}/{arch}: build {built:.0f}s, console log {logfile}")
    return res


def report(rows):
    width = max([len(s.name) for _, _, s in rows] + [5])
    kwidth = max([len(k) for _, k, _ in rows] + [6])
    print()
    print(f"{'arch':8} {'kernel':{kwidth}} {'suite':{width}} {'pass':>5} "
          f"{'fail':>5} {'skip':>5}  notes")
    for arch, kernel, s in rows:
        notes = "; ".join(s.failures + s.notes)
        if len(notes) > 160:
            notes = notes[:157] + "..."
        print(f"{arch:8} {kernel:{kwidth}} {s.name:{width}} {s.passed:5} "
              f"{s.failed:5} {s.skipped:5}  {notes}")
    passed = sum(s.passed for _, _, s in rows)
    failed = sum(s.failed for _, _, s in rows)
    skipped = sum(s.skipped for _, _, s in rows)
    print()
    for arch, kernel, s in rows:
        for what in s.failures:
            print(f"FAIL {arch}/{kernel} {s.name}: {what}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line, flush=True)
    return failed


def cmd_check(args):
    arches = GUEST_ARCHES if args.arch == "all" else (args.arch,)
    if args.seed == "random":
        os.environ["HWBP_SEED"] = str(random.randrange(1, 1 << 31))
    elif args.seed:
        os.environ["HWBP_SEED"] = str(int(args.seed, 0))
    log(f"seed {guest.seed()} (replay: make check SEED={guest.seed()})")
    tree.unpack_base()
    log(f"base tree: Linux {base_version()} (Debian linux-source-6.12); "
        f"kernel under test: {args.kernel}; arches: {', '.join(arches)}")
    rows = [("-", "-", s) for s in test_results.run()]
    if args.kernel == "ours":
        for s in usertest.run():
            rows.append(("-", "ours", s))
    for arch in arches:
        for s in check_one(args.kernel, arch):
            rows.append((arch, args.kernel, s))
    if args.kernel == "ours" and not args.no_variants:
        for variant in VARIANTS + (FULL_VARIANTS if args.full else ()):
            kernel = f"ours+{variant}"
            for arch in arches:
                if arch in guest.variant_arches(kernel):
                    for s in check_one(kernel, arch):
                        rows.append((arch, kernel, s))
    if args.kernel == "ours":
        for s in lint.run([a for a in arches if a in ARCHES]):
            rows.append(("-", "ours", s))
    if args.kernel == "ours" and args.full:
        for s in kunitpy.run([a for a in arches if a in ARCHES]):
            rows.append(("-", "ours", s))
        for s in mutate.run_suite(arch_mutants=False):
            rows.append(("-", "ours", s))
    log(f"base tree: Linux {base_version()}")
    return 1 if report(rows) else 0


def cmd_lint(args):
    arches = ARCHES if args.arch == "all" else (args.arch,)
    for arch in arches:
        prepare("ours", arch)
    rows = [("-", "ours", s) for s in lint.run(arches, full=args.full)]
    return 1 if report(rows) else 0


def cmd_xbuild(args):
    """The other arches' cross builds (part of lint) on their own."""
    tree.unpack_base()
    with build_lock():
        tree.sync_ours()
    arches = tuple(xbuild.XARCH) if args.arch == "all" else (args.arch,)
    rows = [("-", "ours", s) for s in xbuild.run_all(arches)]
    return 1 if report(rows) else 0


def cmd_patches(args):
    patches = series.export()
    series.apply_check(patches)
    for p in patches:
        print(p)
    return 0


def cmd_run(args):
    image, initrd, errors = prepare(args.kernel, "x86_64")
    if "hwbp_demo" in errors:
        print(errors["hwbp_demo"])
        return 1
    log(f"base tree: Linux {base_version()}, kernel: {args.kernel}")
    logfile = os.path.join(outdir(args.kernel, "x86_64"), "run.log")
    text, timed_out = qemu.boot("x86_64", image, initrd, "run", logfile,
                                BOOT_TIMEOUT["x86_64"], echo=True,
                                append=("quiet",))
    ok = "== demo done" in text and not timed_out
    return 0 if ok else 1


def cmd_shell(args):
    image, initrd, _ = prepare(args.kernel, args.arch)
    return qemu.interactive(args.arch, image, initrd)


def cmd_build(args):
    arches = GUEST_ARCHES if args.arch == "all" else (args.arch,)
    for arch in arches:
        prepare(args.kernel, arch)
    return 0


def cmd_bench(argv):
    """make bench: its own options, see bench/bench.py."""
    sys.path.insert(0, os.path.join(os.path.dirname(BUILD), "bench"))
    import bench  # noqa: E402
    return bench.main(argv)


def main():
    if sys.argv[1:2] == ["bench"]:
        return cmd_bench(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, default_arch in (("check", "all"), ("run", "x86_64"),
                               ("shell", "x86_64"), ("build", "all"),
                               ("lint", "all"), ("patches", "all")):
        p = sub.add_parser(name)
        choices = GUEST_ARCHES + ("all",)
        p.add_argument("--arch", default=default_arch, choices=choices)
        p.add_argument("--kernel", default="ours",
                       choices=("ours", "stock") + tuple(
                           f"ours+{v}" for v in VARIANTS + FULL_VARIANTS))
        p.add_argument("--full", action="store_true",
                       help="lint: also build x86_64 after each patch; "
                       "check: also the KASAN variant, kunit.py and the "
                       "allocator's mutants")
        p.add_argument("--seed", default="",
                       help="check: seed of the randomised tests (N or random)")
        p.add_argument("--no-variants", action="store_true",
                       help="check: skip the variant kernels (KCSAN)")
    # The cross builds have arches of their own, and only our kernel.
    p = sub.add_parser("xbuild")
    p.add_argument("--arch", default="all",
                   choices=tuple(xbuild.XARCH) + ("all",))
    args = ap.parse_args()
    os.makedirs(BUILD, exist_ok=True)
    return {"check": cmd_check, "run": cmd_run, "shell": cmd_shell,
            "build": cmd_build, "lint": cmd_lint,
            "patches": cmd_patches, "xbuild": cmd_xbuild}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
