"""Boot a guest kernel under QEMU (TCG) with a hard timeout."""

import bisect
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from common import ARCH, log

# Extra kernel parameters per boot mode. kgdbts runs its hardware
# breakpoint tests on x86 before init.
BOOT_ARGS = {
    "x86_64": [],
    "arm64": [],
    "arm": [],
}


def qemu_cmd(arch, image, initrd, mode, interactive=False, append=(),
             machine=None):
    """machine: the QEMU command and machine options, instead of the
    arch's default (make bench: its vCPU count and -icount)."""
    a = ARCH[arch]
    # A log large enough that the boot messages survive the KUnit output
    # for the suites that read them back (dmesg).
    args = [f"console={a['console']}", "panic=-1", f"hwbp={mode}",
            "log_buf_len=4M",
            *BOOT_ARGS[arch], *append,
            # HWBP_APPEND: more kernel parameters (hwbp.verbose: the
            # kernel log on the console during the suites too).
            *os.environ.get("HWBP_APPEND", "").split()]
    cmd = [*(machine or a["qemu"]), "-kernel", image, "-initrd", initrd,
           "-append", " ".join(args), "-nodefaults", "-no-reboot",
           "-display", "none"]
    if interactive:
        cmd += ["-serial", "mon:stdio"]
    else:
        cmd += ["-serial", "stdio", "-monitor", "none"]
    return cmd


def vcpu_states(sock):
    """Every vCPU's registers from QEMU's monitor ("info registers -a"):
    where a guest that stopped making progress is stuck. '' if the
    monitor does not answer."""
    out = b""
    try:
        mon = socket.socket(socket.AF_UNIX)
        mon.settimeout(5)
        mon.connect(sock)
        mon.sendall(b"info registers -a\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                data = mon.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            out += data
        mon.close()
    except OSError as e:
        return f"(monitor: {e})"
    text = out.decode("utf-8", errors="replace")
    # The monitor echoes the command with line-editing escapes: skip it.
    at = text.find("CPU#")
    return text[at:] if at >= 0 else text


def symbolize(states, image):
    """Name the function of each kernel PC/RIP in @states from the
    System.map of the build @image came from (its objdir)."""
    d = os.path.dirname(os.path.abspath(image))
    while d != "/" and not os.path.exists(os.path.join(d, "System.map")):
        d = os.path.dirname(d)
    try:
        with open(os.path.join(d, "System.map")) as f:
            syms = sorted((int(a, 16), n) for a, t, n in
                          (line.split()[:3] for line in f) if t in "tTwW")
    except (OSError, ValueError):
        return states
    addrs = [a for a, _ in syms]
    lines = []
    for line in states.splitlines():
        m = re.search(r"\b(?:PC|RIP)=([0-9a-f]{16})", line)
        if m:
            pc = int(m.group(1), 16)
            i = bisect.bisect_right(addrs, pc) - 1
            if pc >> 63 and i >= 0:
                line += f"  <{syms[i][1]}+{pc - syms[i][0]:#x}>"
        lines.append(line)
    return "\n".join(lines) + "\n"


def boot(arch, image, initrd, mode, logfile, timeout, echo=False,
         append=(), machine=None, quiet=False):
    """Run the guest to completion; returns (log text, timed_out). A guest
    that times out has its vCPUs' registers appended to @logfile first."""
    cmd = qemu_cmd(arch, image, initrd, mode, append=append, machine=machine)
    mondir = tempfile.mkdtemp(prefix="hwbp-qmp-")
    sock = os.path.join(mondir, "monitor")
    cmd[cmd.index("-monitor") + 1] = f"unix:{sock},server,nowait"
    if not quiet:
        log(f"{arch}: booting ({mode}, timeout {timeout}s)")
    start = time.monotonic()
    timed_out = False
    chunks = []
    with open(logfile, "wb") as out:
        out.write(("# " + " ".join(cmd) + "\n").encode())
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        fd = proc.stdout.fileno()
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                timed_out = True
                out.write(b"\n# timed out: the vCPUs' registers\n")
                out.write(symbolize(vcpu_states(sock), image).encode())
                proc.kill()
                break
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            out.write(data)
            out.flush()
            chunks.append(data)
            if echo:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
        proc.wait()
    shutil.rmtree(mondir, ignore_errors=True)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    if not quiet:
        log(f"{arch}: guest finished in {time.monotonic() - start:.0f}s"
            + (" (TIMED OUT)" if timed_out else ""))
    return text.replace("\r\n", "\n"), timed_out


def interactive(arch, image, initrd):
    cmd = qemu_cmd(arch, image, initrd, "shell", interactive=True)
    print("QEMU: Ctrl-A X quits; 'exit' powers the guest off", flush=True)
    return subprocess.call(cmd)
