"""Turn a guest's console log into per-suite results.

Sources of results:
  - KUnit KTAP printed by the kernel at boot (one result per test case);
  - each user suite's TAP between the init's @@@ BEGIN/END markers;
  - the boot itself: it must reach init, run every suite and power off,
    and no kernel splat may appear anywhere. A splat in the kernel log a
    suite caused fails that suite; one before init fails the boot.
Nothing that is missing is ever counted as passed.
"""

import re
from dataclasses import dataclass, field

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
KUNIT_SUBTEST = re.compile(r"^    # Subtest: (\S+)")
KUNIT_CASE = re.compile(r"^    (ok|not ok) \d+ (.*?)(?:\s+#\s*(SKIP|TODO)\b(.*))?$")
KUNIT_SUITE_END = re.compile(r"^(ok|not ok) \d+ (\S+)")
TAP_RESULT = re.compile(r"^(ok|not ok) \d+\b(.*?)(?:\s+#\s*(SKIP|TODO)\b(.*))?$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)")

# Kernel messages that mean something went wrong, whoever triggered it.
SPLATS = re.compile(
    r"WARNING:|BUG:|Oops|Kernel panic|general protection fault|"
    r"Unable to handle kernel|Internal error:|"
    r"possible recursive locking|possible circular locking|"
    r"inconsistent lock state|DEADLOCK|suspicious RCU usage|"
    r"turning off the locking correctness validator|"
    r"KCSAN:|UBSAN:|KASAN:|kmemleak:.*new suspected|"
    r"hung_task|soft lockup|rcu_sched detected stalls|"
    r"rcu: INFO:")


# KCSAN reports a data race as "BUG: KCSAN: data-race in <fn> / <fn>".
# Every report fails the suite that caused it (or the boot), wherever the
# race is, unless an "allow" line of guest/suites.txt names it with a
# reason: a race the series does not cause, reached through perf's core
# or elsewhere, is still a race a breakpoint user hits.
KCSAN_REPORT = re.compile(r"BUG: KCSAN: (\S+) in (.*)$")

# (regex, reason) pairs from the manifest's "allow" lines; set per boot.
ALLOWED = []


def skip_note(name, why):
    """A self-skipped test as a note. Names and reasons both hold colons
    ("slots: CPU 1 ..."), so a tab, which TAP lines never carry, parts
    them."""
    return f"skip:{name}\t{why}"


def skip_parts(note):
    """(name, reason) of a skip_note()."""
    name, _, why = note[len("skip:"):].partition("\t")
    return name, why


def splat(line):
    """'fail' for a splat that fails its suite, 'note' for one only listed
    (allowed by the manifest), None for an ordinary line."""
    if not (KCSAN_REPORT.search(line) or SPLATS.search(line)):
        return None
    for regex, _ in ALLOWED:
        if regex.search(line):
            return "note"
    return "fail"


@dataclass
class Suite:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def fail(self, what):
        self.failed += 1
        self.failures.append(what)


def clean(line):
    return TIMESTAMP.sub("", line.rstrip("\r"))


def parse_kunit(lines, expected):
    suites = {}
    open_suites = set()
    current = None
    for line in lines:
        m = KUNIT_SUBTEST.match(line)
        if m:
            current = suites.setdefault(m.group(1), Suite("kunit:" + m.group(1)))
            open_suites.add(m.group(1))
            continue
        if current is None:
            continue
        m = KUNIT_CASE.match(line)
        if m:
            if m.group(3) == "SKIP":
                current.skipped += 1
                current.notes.append(skip_note(m.group(2).strip(),
                                               (m.group(4) or '').strip()))
            elif m.group(1) == "ok":
                current.passed += 1
            else:
                current.fail(f"{m.group(2)} failed")
            continue
        m = KUNIT_SUITE_END.match(line)
        if m and m.group(2) == current.name[len("kunit:"):]:
            open_suites.discard(m.group(2))
            current = None
    out = []
    for name in expected:
        s = suites.get(name)
        if s is None:
            s = Suite("kunit:" + name)
            s.fail("no KUnit output (not built in, or the boot died first)")
        elif name in open_suites:
            s.fail("output ends before the suite's result line")
        elif s.passed + s.failed + s.skipped == 0:
            s.fail("suite ran no test case")
        out.append(s)
    return out


KGDBTS_RUN = re.compile(r"^kgdbts:RUN (.*)$")
KGDBTS_ERROR = re.compile(r"^kgdbts: (ERROR|BP mismatch|SingleStep failed|failed)")


def parse_kgdbts(lines):
    """kgdbts's boot-time self test: each 'kgdbts:RUN <test>' is a test,
    failed if an error line follows before the next one."""
    s = Suite("kgdbts")
    current, failed = None, False

    def close():
        if current is None:
            return
        if failed:
            s.fail(current)
        else:
            s.passed += 1

    for line in lines:
        m = KGDBTS_RUN.match(line)
        if m:
            if m.group(1).startswith("singlestep ["):
                continue
            close()
            current, failed = m.group(1), False
        elif KGDBTS_ERROR.match(line):
            failed = True
    close()
    if not s.passed + s.failed:
        s.fail("no kgdbts output (kgdbts=V1 not on the command line?)")
    return s


def parse_tap(name, lines, rc):
    s = Suite(name)
    plan = None
    count = 0
    for line in lines:
        m = TAP_PLAN.match(line)
        if m:
            plan = int(m.group(1))
            continue
        m = TAP_RESULT.match(line)
        if m:
            count += 1
            if m.group(3) == "SKIP":
                s.skipped += 1
                s.notes.append(skip_note(m.group(2).strip(' -'),
                                         m.group(4).strip()))
            elif m.group(1) == "ok":
                s.passed += 1
            else:
                s.fail(m.group(2).strip(" -"))
            continue
        if line.startswith("Bail out!"):
            s.fail(line)
    if rc in (124, 137):
        s.fail("timed out")
    elif plan is None:
        s.fail("no TAP plan (the program died early?)")
    elif plan != count:
        s.fail(f"plan says {plan} results, saw {count}")
    elif rc != 0 and s.failed == 0:
        s.fail(f"exit status {rc} with no failing test")
    return s


def parse_console(text, kunit_expected, suites_expected, compile_errors,
                  timed_out, boot_suites=(), allowed=()):
    """Return [Suite] for one boot, in manifest order, boot check first.
    @allowed: (regex, reason) of kernel messages that are listed, not
    failed (the manifest's "allow" lines)."""
    ALLOWED[:] = [(re.compile(r), why) for r, why in allowed]
    lines = [clean(line) for line in text.split("\n")]
    try:
        init_at = next(i for i, line in enumerate(lines)
                       if line.startswith("@@@ INIT"))
    except StopIteration:
        init_at = len(lines)

    boot = Suite("boot")
    results = [boot]
    results += parse_kunit(lines[:init_at], kunit_expected)
    if "kgdbts" in boot_suites:
        results.append(parse_kgdbts(lines[:init_at]))

    # Split the user phase into per-suite output and kernel log blocks.
    blocks, klogs, rcs = {}, {}, {}
    stray = []
    current, in_klog = None, None
    done = False
    for line in lines[init_at:]:
        if line.startswith("@@@ BEGIN "):
            current = line.split()[2]
            blocks[current] = []
            continue
        if line.startswith("@@@ END ") and current:
            rcs[current] = int(line.rsplit("rc=", 1)[1])
            current = None
            continue
        if line.startswith("@@@ KLOG "):
            in_klog = line.split()[2]
            klogs[in_klog] = []
            continue
        if line.startswith("@@@ KLOGEND"):
            in_klog = None
            continue
        if line.startswith("@@@ DONE"):
            done = True
            continue
        if in_klog:
            klogs[in_klog].append(line)
        elif current:
            blocks[current].append(line)
        else:
            stray.append(line)

    for name, _, _ in suites_expected:
        if name in compile_errors:
            s = Suite(name)
            s.fail("does not compile: " + compile_errors[name].strip()
                   .splitlines()[-1] if compile_errors[name].strip()
                   else "does not compile")
        elif name not in blocks:
            s = Suite(name)
            s.fail("never ran (the guest died or timed out before it)")
        elif name not in rcs:
            s = parse_tap(name, blocks[name], 137)
            s.notes.append("output cut off (guest died during the suite)")
        else:
            s = parse_tap(name, blocks[name], rcs[name])
        noted = set()
        for line in blocks.get(name, []) + klogs.get(name, []):
            kind = splat(line)
            if kind == "fail":
                s.fail("kernel: " + line.strip())
                break
            if kind == "note" and line.strip() not in noted:
                noted.add(line.strip())
                s.notes.append("allowed: " + line.strip())
        results.append(s)

    problems = []
    if init_at == len(lines):
        problems.append("never reached init")
    # Kernel logs that belong to no suite: the one after the last suite
    # ("final"), and any other the guest printed.
    suite_names = {name for name, _, _ in suites_expected}
    orphan = [line for name, klog in klogs.items()
              if name not in suite_names for line in klog]
    splats = [line.strip() for line in lines[:init_at] + stray + orphan
              if splat(line) == "fail"]
    boot.notes += ["allowed: " + line.strip() for line in
                   dict.fromkeys(lines[:init_at] + stray + orphan)
                   if splat(line) == "note"]
    problems += ["kernel: " + line for line in dict.fromkeys(splats)][:10]
    if timed_out:
        problems.append("timed out")
    elif init_at < len(lines) and not done:
        problems.append("guest stopped before running every suite")
    if problems:
        boot.failed = len(problems)
        boot.failures = problems
    else:
        boot.passed = 1
    return results


def apply_expectations(results, kernel, expects):
    """Report known differences as skipped, with their reason.

    Each expectation names a suite and a regular expression matched against
    the suite's failures (a failing test's name, or a problem such as
    "timed out"); only the failures it matches become skips. On our kernel
    a test that skips itself must be covered by an expectation too (its
    name matched), and an expectation that no longer occurs is a failure:
    either the difference went away or the test stopped seeing it.
    """
    for kern, suite_name, pattern, reason in expects:
        if kern not in (kernel, "all"):
            continue
        regex = re.compile(pattern)
        for s in results:
            if s.name != suite_name:
                continue
            matched = [f for f in s.failures if regex.search(f)]
            skips = [n for n in s.notes if n.startswith("skip:") and
                     regex.search(skip_parts(n)[0])]
            if not matched and not skips:
                s.fail(f"expected difference did not occur: {reason}")
                continue
            s.failures = [f for f in s.failures if f not in matched]
            s.failed -= len(matched)
            s.skipped += len(matched)
            s.notes = [n for n in s.notes if n not in skips]
            s.notes.append(f"{len(matched) + len(skips)} skipped, expected "
                           f"on {kernel}: {reason}")
    if kernel != "ours":
        return
    for s in results:
        for n in [n for n in s.notes if n.startswith("skip:")]:
            name, why = skip_parts(n)
            s.notes.remove(n)
            s.skipped -= 1
            s.fail(f"skipped on our kernel with no expect line: {name} ({why})")
