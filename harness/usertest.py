"""The allocator in user space: linux/tools/testing/hw_breakpoint.

Builds the real kernel/events/hw_breakpoint.c as a program (twice: split
and shared registers) and runs its model-based walk with a fixed seed.
Each binary is one result; a failure carries its first lines of output,
which name the seed and step to replay.
"""

import os
import subprocess
import time

import guest
from common import BUILD, OVERLAY, log
from results import Suite

TESTDIR = os.path.join(OVERLAY, "tools", "testing", "hw_breakpoint")
OUT = os.path.join(BUILD, "usertest")
BINARIES = ("hw_breakpoint_split", "hw_breakpoint_mixed")


def build(out=OUT, srcdir=TESTDIR):
    """Build both binaries in @out; None, or the compiler's complaint."""
    p = subprocess.run(["make", "-s", "-C", srcdir, f"O={out}", "all"],
                       capture_output=True, text=True)
    if p.returncode:
        return (p.stdout + p.stderr).strip()
    return None


def run_one(binary, seed=None, ops=None, timeout=120):
    """(ok, seconds, output) of one walk (seed: the run's, by default)."""
    cmd = [binary, "-s", str(guest.seed() if seed is None else seed)]
    if ops:
        cmd += ["-n", str(ops)]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - t0, "timed out"
    return (p.returncode == 0, time.monotonic() - t0,
            (p.stdout + p.stderr).strip())


def run():
    s = Suite("usertest:hw_breakpoint")
    log(f"usertest: the allocator in user space ({TESTDIR})")
    err = build()
    if err:
        s.fail("build failed: " + " | ".join(err.splitlines()[:5]))
        return [s]
    for name in BINARIES:
        ok, secs, out = run_one(os.path.join(OUT, name))
        first = out.splitlines()[0] if out else ""
        log(f"usertest: {name}: {'ok' if ok else 'FAILED'} in {secs:.1f}s")
        if ok:
            s.passed += 1
        else:
            fails = [l for l in out.splitlines() if l.startswith("FAIL")]
            s.fail(f"{name}: " + " | ".join((fails or [first])[:3]))
    return [s]
