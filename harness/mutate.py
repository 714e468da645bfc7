"""make mutate: plant each defect of harness/mutants.txt and see it caught.

A mutant is killed when the test that should catch it fails with the
defect in place. The allocator's mutants run against the user-space walk
(linux/tools/testing/hw_breakpoint) in a scratch copy of the files, so the
tree is never touched. Arch mutants need a kernel build and a guest boot
each; they are listed, and run only when asked (--arch-mutants).

Prints a table (mutant, killed by, seconds) and the kill ratio, and writes
it to build/mutate.md.
"""

import os
import shutil
import sys
import tempfile
import time

import guest
import kbuild
import qemu
import results
import tree
import usertest
from common import (BUILD, OURS_TREE, OVERLAY, TOP, build_lock, log,
                    outdir)

MUTANTS = os.path.join(TOP, "harness", "mutants.txt")
REPORT = os.path.join(BUILD, "mutate.md")
WALK_OPS = 300000	# per binary; the full walk is 1,000,000


def parse(path=MUTANTS):
    mutants, cur = [], None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("#") or not line.strip():
                continue
            key, _, rest = line.partition(" ")
            if line[0] in "-+":
                key = None
            if key == "mutant":
                cur = {"name": rest.strip(), "old": [], "new": []}
                mutants.append(cur)
            elif key in ("file", "killer", "why"):
                cur[key] = rest.strip()
            elif line[0] == "-":
                cur["old"].append(line[1:])
            elif line[0] == "+":
                cur["new"].append(line[1:])
            else:
                sys.exit(f"{path}: cannot parse: {line!r}")
    for m in mutants:
        m["old"] = "\n".join(m["old"])
        m["new"] = "\n".join(m["new"])
    return mutants


def mutated(m):
    """The mutated text of m's file, or an error string."""
    with open(os.path.join(OVERLAY, m["file"])) as f:
        text = f.read()
    n = text.count(m["old"])
    if n != 1:
        return None, f"the text to replace occurs {n} times"
    return text.replace(m["old"], m["new"]), None


def scratch_tree(root, m=None):
    """A copy of the user-space test and the allocator under root."""
    for rel in ("kernel/events/hw_breakpoint.c",
                "kernel/events/hw_breakpoint_internal.h"):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        shutil.copy(os.path.join(OVERLAY, rel), os.path.join(root, rel))
    shutil.copytree(usertest.TESTDIR,
                    os.path.join(root, "tools/testing/hw_breakpoint"))
    if m:
        text, err = mutated(m)
        if err:
            return err
        with open(os.path.join(root, m["file"]), "w") as f:
            f.write(text)
    return None


def run_usertest(m):
    """(verdict, seconds): killed, survived, or an error."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(dir=BUILD) as root:
        err = scratch_tree(root, m)
        if err:
            return f"error: {err}", 0.0
        src = os.path.join(root, "tools/testing/hw_breakpoint")
        out = os.path.join(root, "out")
        err = usertest.build(out, src)
        if err:
            return "error: does not build", time.monotonic() - t0
        for name in usertest.BINARIES:
            ok, _, _ = usertest.run_one(os.path.join(out, name), ops=WALK_OPS,
                                        timeout=60)
            if not ok:
                return f"killed ({name})", time.monotonic() - t0
    return "SURVIVED", time.monotonic() - t0


ARCH_BOOT_TIMEOUT = 600


def run_arch(m):
    """Build our kernel with m planted, boot the killer suites only.

    The mutated file replaces the patched tree's copy (a new inode: the
    tree is hard-linked to the base) and the next sync puts ours back.
    """
    arch, _, suites = m["killer"].partition(":")
    text, err = mutated(m)
    if err:
        return f"error: {err}", 0.0
    t0 = time.monotonic()
    os.environ["HWBP_ONLY"] = suites
    try:
        with build_lock():
            tree.sync_ours()
            path = os.path.join(OURS_TREE, m["file"])
            with open(path + ".mutant", "w") as f:
                f.write(text)
            os.replace(path + ".mutant", path)
            try:
                image = kbuild.build("ours", arch)
            except SystemExit:
                return "error: does not build", time.monotonic() - t0
            finally:
                tree.sync_ours()
            initrd, errors = guest.build_initramfs("ours", arch)
        kunit, suites_list, expects, boot = guest.manifest(arch, "ours")
        logfile = os.path.join(outdir("ours", arch), f"mutant-{m['name']}.log")
        out, timed_out = qemu.boot(arch, image, initrd, "check", logfile,
                                   ARCH_BOOT_TIMEOUT,
                                   append=tuple(boot.values()) +
                                   tuple(guest.cmdline(arch, "ours")))
        res = results.parse_console(out, kunit, suites_list, errors,
                                    timed_out, boot_suites=boot,
                                    allowed=guest.allowed(arch, "ours"))
        results.apply_expectations(res, "ours", expects)
    finally:
        del os.environ["HWBP_ONLY"]
    failed = [f"{s.name}: {s.failures[0]}" for s in res if s.failed]
    secs = time.monotonic() - t0
    if failed:
        return f"killed ({failed[0][:60]})", secs
    return "SURVIVED", secs


def run_all(arch_mutants):
    """[(name, killer, verdict, seconds)] of every mutant, or None when
    the unmutated walk itself fails."""
    verdict, secs = run_usertest(None)
    if verdict != "SURVIVED":
        return None
    log(f"mutate: unmutated walk passes ({secs:.1f}s)")
    rows = []
    # MUTANTS=name,...: only those (a rerun of one, or of new ones).
    only = set(filter(None, os.environ.get("MUTANTS", "").split(",")))
    for m in parse():
        if only and m["name"] not in only:
            continue
        if m["killer"] == "usertest":
            verdict, secs = run_usertest(m)
        elif arch_mutants:
            verdict, secs = run_arch(m)
        else:
            verdict, secs = "not run (arch)", 0.0
        rows.append((m["name"], m["killer"], verdict, secs))
        log(f"mutate: {m['name']}: {verdict} ({secs:.1f}s)")
    return rows


def run_suite(arch_mutants=False):
    """make check FULL=1: one result per mutant run, killed or not (the
    arch mutants, listed as skipped, need make mutate ARCH_MUTANTS=1)."""
    s = results.Suite("mutate")
    rows = run_all(arch_mutants)
    if rows is None:
        s.fail("the unmutated user-space walk fails")
        return [s]
    for name, killer, verdict, _ in rows:
        if verdict.startswith("killed"):
            s.passed += 1
        elif verdict.startswith("not run"):
            s.skipped += 1
        else:
            s.fail(f"{name} ({killer}): {verdict}")
    return [s]


def main(arch_mutants=False):
    os.makedirs(BUILD, exist_ok=True)
    rows = run_all(arch_mutants)
    if rows is None:
        print("the unmutated walk fails: fix that first")
        return 1
    run = [r for r in rows if not r[2].startswith("not run")]
    killed = sum(r[2].startswith("killed") for r in run)
    width = max(len(r[0]) for r in rows)
    lines = ["| mutant | killer | result | seconds |",
             "| --- | --- | --- | ---: |"]
    lines += [f"| {n} | {k} | {v} | {s:.1f} |" for n, k, v, s in rows]
    ratio = f"{killed}/{len(run)} killed ({100.0 * killed / max(len(run), 1):.0f}%)"
    print()
    for n, k, v, s in rows:
        print(f"{n:{width}}  {k:34}  {v:40}  {s:6.1f}s")
    skipped = len(rows) - len(run)
    print(f"\n{ratio}" + (f"; {skipped} arch mutants not run (ARCH_MUTANTS=1)"
                            if skipped else ""))
    with open(REPORT, "w") as f:
        f.write("\n".join(lines) + f"\n\n{ratio}\n")
    return 0 if killed == len(run) else 1


if __name__ == "__main__":
    sys.exit(main("--arch-mutants" in sys.argv))
