"""The kernel's own KUnit workflow on our tree (make check FULL=1).

Runs the command kernel/events/.kunitconfig documents,
tools/testing/kunit/kunit.py with that .kunitconfig, on x86_64 and arm64
in the patched tree, each in its own build directory, and reports
kunit.py's own verdict: the case count it prints and its exit status.
"""

import os
import re
import subprocess
import time

from common import BUILD, OURS_TREE, build_lock, jobs, log
from results import Suite

TOTALS = re.compile(r"Testing complete\. Ran (\d+) tests: passed: (\d+)"
                    r"(?:, failed: (\d+))?(?:, skipped: (\d+))?")
ARGS = {
    "x86_64": ["--arch=x86_64"],
    "arm64": ["--arch=arm64", "--cross_compile=aarch64-linux-gnu-"],
}


def run_arch(arch):
    s = Suite(f"kunit.py:{arch}")
    build_dir = os.path.join(BUILD, "kunit", arch)
    os.makedirs(os.path.dirname(build_dir), exist_ok=True)
    cmd = ["python3", "tools/testing/kunit/kunit.py", "run",
           "--kunitconfig=kernel/events", f"--build_dir={build_dir}",
           f"--jobs={jobs()}", "--qemu_args=-smp 8", "--timeout=900",
           *ARGS[arch]]
    t0 = time.monotonic()
    with build_lock():
        p = subprocess.run(cmd, cwd=OURS_TREE, capture_output=True, text=True)
    out = p.stdout + p.stderr
    with open(os.path.join(BUILD, f"kunit-{arch}.log"), "w") as f:
        f.write(out)
    log(f"kunit.py {arch}: exit {p.returncode} in {time.monotonic() - t0:.0f}s")
    m = TOTALS.search(out)
    if not m:
        s.fail(f"no result line (exit {p.returncode}); see build/kunit-{arch}.log")
        return s
    s.passed = int(m.group(2))
    s.skipped = int(m.group(4) or 0)
    if m.group(3) and int(m.group(3)):
        s.fail(f"{m.group(3)} of {m.group(1)} cases failed; see build/kunit-{arch}.log")
    if s.skipped:
        s.fail(f"{s.skipped} cases skipped (uniprocessor?); see build/kunit-{arch}.log")
    if p.returncode and not s.failed:
        s.fail(f"kunit.py exit {p.returncode}")
    return s


def run(arches):
    return [run_arch(arch) for arch in arches]
