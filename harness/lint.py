"""make lint: the checks every patch of the series is held to.

  - scripts/checkpatch.pl --strict on every exported patch;
  - scripts/kernel-doc -none -Wall on every C file and header we own;
  - docutils on our .rst files (Sphinx directives accepted as no-ops);
  - our objects rebuilt with W=1 and sparse (C=2), per arch;
  - the other arches that select HAVE_HW_BREAKPOINT cross-built
    (harness/xbuild.py): the core and their breakpoint and ptrace
    objects, W=1 and sparse;
  - every planted defect of harness/mutants.txt still finds its text
    (make mutate runs them only under FULL=1, so a change of the code
    they mutate would otherwise go unseen until then).
Any message is a failure: zero errors and zero warnings is the bar.
"""

import os
import re
import subprocess
import sys

import kbuild
import mutate
import series
import tree
import xbuild
from common import ARCH, OURS_TREE, OVERLAY, log, objdir
from results import Suite

DIAG = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?:\d+:)?\s*"
                  r"(?P<kind>warning|error|note)?:?\s*(?P<msg>.*)$")


def our_sources():
    return [rel for rel in tree.overlay_files() if rel.endswith((".c", ".h"))]


def checkpatch(patches):
    s = Suite("lint:checkpatch")
    for patch in patches:
        if patch.endswith("0000-cover-letter.patch"):
            continue
        res = subprocess.run(
            [os.path.join(OURS_TREE, "scripts", "checkpatch.pl"), "--strict",
             "--terse", "--showfile", patch],
            cwd=OURS_TREE, capture_output=True, text=True)
        problems = [ln for ln in res.stdout.splitlines()
                    if ln and not ln.startswith("total:")]
        if res.returncode or problems:
            s.fail(f"{os.path.basename(patch)}: "
                   + ("; ".join(problems[:3]) or res.stderr.strip()))
        else:
            s.passed += 1
    if not s.passed + s.failed:
        s.fail("no exported patches (make patches)")
    return s


def kernel_doc():
    s = Suite("lint:kernel-doc")
    for rel in our_sources():
        res = subprocess.run(
            [os.path.join(OURS_TREE, "scripts", "kernel-doc"), "-none",
             "-Wall", os.path.join(OVERLAY, rel)],
            capture_output=True, text=True)
        out = (res.stdout + res.stderr).strip()
        if res.returncode or out:
            s.fail(f"{rel}: " + out.splitlines()[0])
        else:
            s.passed += 1
    return s


def rst():
    """Our .rst files parse without a docutils warning (Sphinx's own
    directives accepted as they are)."""
    s = Suite("lint:rst")
    checker = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "rstcheck.py")
    python = None
    for candidate in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([candidate, "-c", "import docutils"],
                          capture_output=True).returncode == 0:
            python = candidate
            break
    if python is None:
        s.fail("docutils missing (Debian package python3-docutils)")
        return s
    for rel in tree.overlay_files():
        if not rel.endswith(".rst"):
            continue
        res = subprocess.run([python, checker, os.path.join(OVERLAY, rel)],
                             capture_output=True, text=True)
        if res.returncode:
            s.fail(f"{rel}: " + (res.stdout.strip().splitlines() or
                                 [res.stderr.strip()])[0])
        else:
            s.passed += 1
    return s


def objects(arch):
    karch = ARCH[arch]["karch"]
    objs = []
    for rel in tree.overlay_files():
        if not rel.endswith(".c"):
            continue
        if rel.startswith("arch/") and not rel.startswith(f"arch/{karch}/"):
            continue
        if rel.startswith(("tools/", "samples/", "Documentation/")):
            continue
        objs.append(rel[:-2] + ".o")
    return objs


def messages_about_ours(output):
    """{our file: [compiler or sparse messages about it]} in @output."""
    ours = set(our_sources())
    bad = {}
    for line in output.splitlines():
        m = DIAG.match(line)
        if not m:
            continue
        path = m.group("path")
        rel = os.path.relpath(path, OURS_TREE) if os.path.isabs(path) else path
        rel = rel.split("/", 1)[1] if rel.startswith("../") else rel
        if rel in ours:
            bad.setdefault(rel, []).append(line.strip())
    return bad


def judge_objects(s, objs, res, obj_dir=None):
    """Fill @s from a W=1 + sparse build @res of @objs: a case per object,
    failed by a message about one of our files; with @obj_dir, also by an
    object the build did not leave there."""
    bad = messages_about_ours(res.stdout + res.stderr)
    if res.returncode:
        s.fail(f"build failed: {(res.stderr.strip().splitlines() or ['?'])[-1]}")
    for obj in objs:
        src = obj[:-2] + ".c"
        msgs = bad.pop(src, [])
        if msgs:
            s.fail(f"{src}: {msgs[0]}")
        elif obj_dir and not os.path.exists(os.path.join(obj_dir, obj)):
            s.fail(f"{obj}: not built")
        else:
            s.passed += 1
    for rel, msgs in sorted(bad.items()):
        s.fail(f"{rel}: {msgs[0]}")
    return s


def w1_sparse(arch):
    """Rebuild our objects with W=1 and sparse; any message about our files fails."""
    s = Suite(f"lint:W=1+sparse:{arch}")
    objs = objects(arch)
    if not os.path.exists(os.path.join(objdir("ours", arch), ".config")):
        s.fail("no configured kernel (make build ARCH=" + arch + ")")
        return s
    cmd = kbuild.make_cmd("ours", arch, *objs,
                          extra=["W=1", "C=2", "CHECK=sparse"])
    res = subprocess.run(cmd, capture_output=True, text=True)
    return judge_objects(s, objs, res)


def mutants_apply():
    s = Suite("lint:mutants-apply")
    for m in mutate.parse():
        _, err = mutate.mutated(m)
        if err:
            s.fail(f"{m['name']} ({m['file']}): {err}")
        else:
            s.passed += 1
    return s


def run(arches, full=False):
    log("lint: exporting the series")
    am = Suite("lint:series-applies")
    try:
        patches = series.export()
    except SystemExit as e:
        am.fail(f"make patches failed ({e.code})")
        return [am]
    try:
        series.apply_check(patches)
        am.passed = 1
    except SystemExit as e:
        am.fail(f"git am failed ({e.code})")
    results = [am, checkpatch(patches), kernel_doc(), rst(),
               mutants_apply()]
    for arch in arches:
        log(f"lint: W=1 and sparse on our objects ({arch})")
        results.append(w1_sparse(arch))
    results.extend(xbuild.run_all())
    if full:
        results.append(series.bisect_check("x86_64"))
    return results
