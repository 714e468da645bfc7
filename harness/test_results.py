"""The harness's own rules, tested: what makes a suite fail.

Every rule the README states for `make check` (a missing output fails, a
splat fails the suite that caused it or the boot, a skip on our kernel
needs an expect line, an expect line that no longer occurs fails, ...)
is a few lines of harness/results.py that nothing else would notice
breaking: a harness that passes everything passes every kernel. Each
case here feeds results.parse_console() a console log built from the
guest init's markers and checks the verdict. `make check` runs these
first (the suite `harness:results`); alone: python3 harness/test_results.py.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qemu  # noqa: E402
import results  # noqa: E402
from results import Suite  # noqa: E402

SUITES = (("alpha", "all", 60), ("beta", "all", 60))


def suite(name, tap, rc=0, klog=()):
    """One suite's part of the console: its TAP, exit status, kernel log."""
    out = [f"@@@ BEGIN {name}", *tap, f"@@@ END {name} rc={rc}",
           f"@@@ KLOG {name}", *klog, f"@@@ KLOGEND {name}"]
    return out


GOOD_TAP = ("1..2", "ok 1 - first", "ok 2 - second")
KUNIT_OK = ("    # Subtest: hw_breakpoint", "    1..1",
            "    ok 1 test_fill", "ok 1 hw_breakpoint")


def console(*parts, kunit=KUNIT_OK, final=(), done=True, boot=()):
    lines = ["[    0.000000] Linux version 6.12", *boot, *kunit, "@@@ INIT"]
    for p in parts:
        lines += p
    lines += ["@@@ KLOG final", *final, "@@@ KLOGEND final"]
    if done:
        lines.append("@@@ DONE")
    return "\n".join(lines)


def parse(text, timed_out=False, allowed=(), compile_errors=None,
          kunit=("hw_breakpoint",)):
    res = results.parse_console(text, kunit, SUITES, compile_errors or {},
                                timed_out, allowed=allowed)
    return {s.name: s for s in res}


def clean_run(**kw):
    return console(suite("alpha", GOOD_TAP), suite("beta", GOOD_TAP), **kw)


class Verdicts(unittest.TestCase):
    def ok(self, s):
        self.assertEqual((s.failed, s.failures), (0, []), s.name)

    def bad(self, s, what):
        self.assertGreater(s.failed, 0, f"{s.name} should fail: {what}")
        self.assertTrue(any(what in f for f in s.failures),
                        f"{s.name}: {s.failures} lacks {what!r}")

    def test_clean_run_passes(self):
        r = parse(clean_run())
        for name in ("boot", "kunit:hw_breakpoint", "alpha", "beta"):
            self.ok(r[name])
        self.assertEqual(r["alpha"].passed, 2)
        self.assertEqual(r["boot"].passed, 1)

    def test_missing_suite_fails(self):
        r = parse(console(suite("alpha", GOOD_TAP)))
        self.bad(r["beta"], "never ran")

    def test_missing_kunit_suite_fails(self):
        r = parse(clean_run(kunit=()))
        self.bad(r["kunit:hw_breakpoint"], "no KUnit output")

    def test_kunit_cut_off_fails(self):
        r = parse(clean_run(kunit=KUNIT_OK[:3]))
        self.bad(r["kunit:hw_breakpoint"], "output ends")

    def test_kunit_failure_counts(self):
        kunit = ("    # Subtest: hw_breakpoint", "    1..2",
                 "    ok 1 test_fill", "    not ok 2 test_wide",
                 "not ok 1 hw_breakpoint")
        r = parse(clean_run(kunit=kunit))
        self.bad(r["kunit:hw_breakpoint"], "test_wide")
        self.assertEqual(r["kunit:hw_breakpoint"].passed, 1)

    def test_plan_mismatch_fails(self):
        r = parse(console(suite("alpha", ("1..3", "ok 1", "ok 2")),
                          suite("beta", GOOD_TAP)))
        self.bad(r["alpha"], "plan says 3")

    def test_no_plan_fails(self):
        r = parse(console(suite("alpha", ("ok 1",)), suite("beta", GOOD_TAP)))
        self.bad(r["alpha"], "no TAP plan")

    def test_nonzero_exit_without_failure_fails(self):
        r = parse(console(suite("alpha", GOOD_TAP, rc=1),
                          suite("beta", GOOD_TAP)))
        self.bad(r["alpha"], "exit status 1")

    def test_timeout_fails_suite(self):
        r = parse(console(suite("alpha", GOOD_TAP, rc=124),
                          suite("beta", GOOD_TAP)))
        self.bad(r["alpha"], "timed out")

    def test_bail_out_fails(self):
        r = parse(console(suite("alpha", GOOD_TAP + ("Bail out! no fd",)),
                          suite("beta", GOOD_TAP)))
        self.bad(r["alpha"], "Bail out")

    def test_cut_off_suite_fails(self):
        text = console(["@@@ BEGIN alpha", "1..2", "ok 1"], done=False)
        r = parse(text)
        self.bad(r["alpha"], "timed out")
        self.bad(r["boot"], "stopped before")

    def test_compile_error_fails(self):
        r = parse(clean_run(), compile_errors={"beta": "x.c:1: error: y"})
        self.bad(r["beta"], "does not compile")

    def test_splat_in_suite_klog_fails_that_suite(self):
        r = parse(console(suite("alpha", GOOD_TAP,
                                klog=("WARNING: CPU: 1 PID: 7 at x.c:3",)),
                          suite("beta", GOOD_TAP)))
        self.bad(r["alpha"], "WARNING")
        self.ok(r["beta"])
        self.ok(r["boot"])

    def test_splat_in_final_log_fails_boot(self):
        for line in ("BUG: sleeping function called from invalid context",
                     "INFO: task kworker/0:1 blocked for more than 120 "
                     "seconds. hung_task",
                     "watchdog: BUG: soft lockup - CPU#0 stuck for 22s!",
                     "UBSAN: shift-out-of-bounds in x.c:1",
                     "BUG: KASAN: slab-use-after-free in f+0x1/0x2",
                     "kmemleak: 1 new suspected memory leaks"):
            with self.subTest(line=line):
                r = parse(clean_run(final=(line,)))
                self.bad(r["boot"], line[:20])
                self.ok(r["alpha"])

    def test_splat_before_init_fails_boot(self):
        r = parse(clean_run(boot=("Oops: general protection fault",)))
        self.bad(r["boot"], "Oops")

    def test_kcsan_report_fails_unless_allowed(self):
        race = "BUG: KCSAN: data-race in perf_foo / perf_bar"
        text = console(suite("alpha", GOOD_TAP, klog=(race,)),
                       suite("beta", GOOD_TAP))
        self.bad(parse(text)["alpha"], "KCSAN")
        r = parse(text, allowed=((r"data-race in perf_foo", "perf core"),))
        self.ok(r["alpha"])
        self.assertTrue(any("allowed" in n for n in r["alpha"].notes))
        # ... and the allow line is for that race only.
        other = console(suite("alpha", GOOD_TAP, klog=(
            "BUG: KCSAN: data-race in hw_breakpoint_x / y",)),
            suite("beta", GOOD_TAP))
        r = parse(other, allowed=((r"data-race in perf_foo", "perf core"),))
        self.bad(r["alpha"], "KCSAN")

    def test_no_done_fails_boot(self):
        r = parse(clean_run(done=False))
        self.bad(r["boot"], "stopped before")

    def test_timed_out_boot_fails(self):
        r = parse(clean_run(), timed_out=True)
        self.bad(r["boot"], "timed out")

    def test_never_reached_init_fails(self):
        r = parse("[    0.0] Linux version 6.12\nKernel panic - not syncing")
        self.bad(r["boot"], "never reached init")
        self.bad(r["alpha"], "never ran")


class Expectations(unittest.TestCase):
    FAILING = ("1..2", "ok 1 - first", "not ok 2 - icebp trap")
    SKIPPING = ("1..2", "ok 1 - first", "ok 2 - second # SKIP no hardware")

    def run_expect(self, tap, kernel, expects):
        r = parse(console(suite("alpha", tap), suite("beta", GOOD_TAP)))
        res = list(r.values())
        results.apply_expectations(res, kernel, expects)
        return {s.name: s for s in res}

    def test_expected_failure_is_a_skip(self):
        r = self.run_expect(self.FAILING, "ours",
                            [("all", "alpha", r"^icebp", "QEMU")])
        s = r["alpha"]
        self.assertEqual((s.failed, s.skipped, s.passed), (0, 1, 1))

    def test_only_matching_failures_are_skipped(self):
        tap = ("1..2", "not ok 1 - other", "not ok 2 - icebp trap")
        r = self.run_expect(tap, "ours", [("all", "alpha", r"^icebp", "QEMU")])
        self.assertEqual(r["alpha"].failed, 1)
        self.assertEqual(r["alpha"].failures, ["other"])

    def test_expect_that_does_not_occur_fails(self):
        r = self.run_expect(GOOD_TAP, "ours",
                            [("all", "alpha", r"^icebp", "QEMU")])
        self.assertEqual(r["alpha"].failed, 1)
        self.assertIn("did not occur", r["alpha"].failures[0])

    def test_expect_for_other_kernel_ignored(self):
        r = self.run_expect(self.FAILING, "ours",
                            [("stock", "alpha", r"^icebp", "stock only")])
        self.assertEqual(r["alpha"].failed, 1)
        r = self.run_expect(self.FAILING, "stock",
                            [("stock", "alpha", r"^icebp", "stock only")])
        self.assertEqual(r["alpha"].failed, 0)

    def test_skip_on_ours_needs_expect(self):
        r = self.run_expect(self.SKIPPING, "ours", [])
        self.assertEqual(r["alpha"].failed, 1)
        self.assertIn("no expect line", r["alpha"].failures[0])

    def test_skip_on_stock_is_a_skip(self):
        r = self.run_expect(self.SKIPPING, "stock", [])
        self.assertEqual((r["alpha"].failed, r["alpha"].skipped), (0, 1))

    def test_skip_on_ours_with_expect(self):
        r = self.run_expect(self.SKIPPING, "ours",
                            [("ours", "alpha", r"^second", "no hardware")])
        self.assertEqual((r["alpha"].failed, r["alpha"].skipped), (0, 1))


    def test_skip_name_with_colons(self):
        # The expect line matches the name past its colon, not the reason.
        tap = ("1..1", "ok 1 - slots: CPU 1 holds one # SKIP arm: none")
        r = self.run_expect(tap, "ours",
                            [("ours", "alpha", r"^slots:.CPU.1", "arm")])
        self.assertEqual((r["alpha"].failed, r["alpha"].skipped), (0, 1))
        r = self.run_expect(tap, "ours",
                            [("ours", "alpha", r"none", "the reason")])
        self.assertEqual(r["alpha"].failed, 2)


class TimeoutDump(unittest.TestCase):
    """qemu.symbolize(): a stopped guest's kernel PCs named from the
    System.map beside its image; user PCs and unknown maps left alone."""

    def test_names_kernel_pcs(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            boot = os.path.join(d, "arch", "arm64", "boot")
            os.makedirs(boot)
            image = os.path.join(boot, "Image")
            open(image, "w").close()
            with open(os.path.join(d, "System.map"), "w") as f:
                f.write("ffff800080010000 T do_watchpoint\n"
                        "ffff800080010100 t hwbp_sync_masks\n"
                        "ffff800080010200 D some_data\n")
            states = ("CPU#0\n PC=ffff800080010104 X00=0\n"
                      "CPU#1\nRIP=ffff800080010010 RFL=00000246\n"
                      "CPU#2\n PC=0000000000401874 X00=0\n")
            out = qemu.symbolize(states, image).splitlines()
            self.assertTrue(out[1].endswith("<hwbp_sync_masks+0x4>"), out[1])
            self.assertTrue(out[3].endswith("<do_watchpoint+0x10>"), out[3])
            self.assertNotIn("<", out[5])
            # No System.map: the dump is kept as it came.
            self.assertEqual(qemu.symbolize(states, "/nonexistent/Image"),
                             states)


def run():
    """[Suite]: one result per test case, for make check's table."""
    s = Suite("harness:results")
    loader = unittest.TestLoader()
    tests = unittest.TestSuite([loader.loadTestsFromTestCase(c)
                                for c in (Verdicts, Expectations, TimeoutDump)])
    outcome = unittest.TestResult()
    tests.run(outcome)
    bad = {t.id(): msg for t, msg in outcome.failures + outcome.errors}
    s.passed = outcome.testsRun - len(bad)
    for name, msg in bad.items():
        s.fail(f"{name.rsplit('.', 1)[1]}: {msg.strip().splitlines()[-1]}")
    return [s]


if __name__ == "__main__":
    unittest.main()
