#!/usr/bin/env python3
"""Where the instructions of a guest workload go, function by function.

    python3 bench/trace.py ARCH KERNEL 'COMMAND' [OPS] [--top N]

boots the production kernel (KERNEL: ours or stock; build it first with
make bench or a check of the bench config) with QEMU -singlestep, one
instruction per translation block, and turns on QEMU's "exec" log from
the monitor only while the guest runs COMMAND: every instruction it and
the kernel execute for it is one line with its PC. The PCs are charged
to the functions of the kernel's System.map (user space is one row) and
printed per operation (divided by OPS, the number of operations COMMAND
performs). Under -icount a bench figure is an instruction count; this
says which functions make it. Example, the arm64 watchpoint hit:

    python3 bench/trace.py arm64 ours '/bin/bpbench hits count 500 1' 500

The log takes about 100 bytes per instruction: keep COMMAND short (a
few million instructions).
"""

import argparse
import bisect
import collections
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import guest  # noqa: E402
import kbuild  # noqa: E402
import qemu  # noqa: E402
from common import BUILD, objdir  # noqa: E402

# Its own module, programs and initramfs: a make bench running meanwhile
# keeps its own.
TRACE_DIR = os.path.join(BUILD, "bench", "trace")
bench.workdir = lambda kernel, arch: os.path.join(
    TRACE_DIR, f"{kernel.replace('+', '-')}-{arch}")

# exec log lines: "Trace N: HOSTPTR [CS_BASE/PC/FLAGS/CFLAGS] ..."
EXEC_PC = re.compile(r"\[[0-9a-f]+/([0-9a-f]+)/")
USER_TOP = {"x86_64": 0x0000800000000000, "arm64": 0x0010000000000000}


def run_traced(arch, name, command, log):
    """Boot, trace COMMAND into @log; returns the guest's console text."""
    image = kbuild.image_path(name, arch)
    ko = bench.build_module(name, arch)
    script = ("echo @@TRACE-ON; read x </dev/console; "
              f"{command}; echo @@TRACE-OFF; read x </dev/console; "
              "echo @@TRACE-DONE\n")
    bench.plan = lambda config, cpus, quick: [
        ("run", 3000, "/bin/sh /etc/hwbp/trace.sh", [])]
    write = guest.Cpio.write

    def with_script(self, path):
        self.file("etc/hwbp/trace.sh", script.encode(), 0o755)
        return write(self, path)

    guest.Cpio.write = with_script
    initrd = bench.build_initramfs(name, arch, ko, "bench", 4, True)
    sock = os.path.join(tempfile.mkdtemp(), "monitor")
    cmd = qemu.qemu_cmd(arch, image, initrd, "bench", append=bench.BOOT_ARGS,
                        machine=bench.machine(arch, 4))
    cmd[cmd.index("-monitor") + 1] = f"unix:{sock},server,nowait"
    cmd += ["-singlestep", "-D", log]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    while not os.path.exists(sock):
        time.sleep(0.1)
    mon = socket.socket(socket.AF_UNIX)
    mon.connect(sock)
    # The guest waits on its console after each marker: the monitor
    # command is in before it goes on.
    steps = {b"@@TRACE-ON": "log exec,nochain", b"@@TRACE-OFF": "log none"}
    text, pending = b"", b""
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if not ready:
            continue
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            break
        text += data
        pending += data
        for marker, hmp in steps.items():
            if marker in pending:
                pending = pending.split(marker, 1)[1]
                mon.sendall((hmp + "\n").encode())
                time.sleep(0.5)
                proc.stdin.write(b"\n")
                proc.stdin.flush()
        if b"@@TRACE-DONE" in pending:
            break
    proc.kill()
    proc.wait()
    return text.decode("utf-8", errors="replace")


def charge(arch, name, log):
    """Counter: function -> instructions executed in @log."""
    addrs, names = [], []
    with open(os.path.join(objdir(name, arch), "System.map")) as f:
        for line in f:
            addr, kind, sym = line.split()[:3]
            if kind in "tTwW":
                addrs.append(int(addr, 16))
                names.append(sym)
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    addrs = [addrs[i] for i in order]
    names = [names[i] for i in order]
    where, counts = {}, collections.Counter()
    with open(log, errors="replace") as f:
        for line in f:
            m = EXEC_PC.search(line)
            if not m:
                continue
            pc = int(m.group(1), 16)
            if pc < USER_TOP[arch]:
                counts["(user space)"] += 1
                continue
            fn = where.get(pc)
            if fn is None:
                i = bisect.bisect_right(addrs, pc) - 1
                fn = where[pc] = names[i] if i >= 0 else "?"
            counts[fn] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("arch", choices=("x86_64", "arm64"))
    ap.add_argument("kernel", choices=("ours", "stock"))
    ap.add_argument("command")
    ap.add_argument("ops", nargs="?", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    name = bench.kernel_name(args.kernel, "bench")
    log = os.path.join(TRACE_DIR, f"{args.kernel}-{args.arch}.log")
    os.makedirs(TRACE_DIR, exist_ok=True)
    console = run_traced(args.arch, name, args.command, log)
    for line in console.splitlines():
        if line.startswith("@@@ BENCH"):
            print(line)
    counts = charge(args.arch, name, log)
    total = sum(counts.values())
    print(f"{total} instructions traced, {total / args.ops:.1f} per op")
    for fn, n in counts.most_common(args.top):
        print(f"{n / args.ops:10.1f}  {fn}")
    os.unlink(log)


if __name__ == "__main__":
    main()
