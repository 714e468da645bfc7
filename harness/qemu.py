"""Boot a guest kernel under QEMU (TCG) with a hard timeout."""

import os
import select
import subprocess
import sys
import time

from common import ARCH, log

# Extra kernel parameters per boot mode. kgdbts runs its hardware
# breakpoint tests on x86 before init.
BOOT_ARGS = {
    "x86_64": [],
    "arm64": [],
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


def boot(arch, image, initrd, mode, logfile, timeout, echo=False,
         append=(), machine=None, quiet=False):
    """Run the guest to completion; returns (log text, timed_out)."""
    cmd = qemu_cmd(arch, image, initrd, mode, append=append, machine=machine)
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
    text = b"".join(chunks).decode("utf-8", errors="replace")
    if not quiet:
        log(f"{arch}: guest finished in {time.monotonic() - start:.0f}s"
            + (" (TIMED OUT)" if timed_out else ""))
    return text.replace("\r\n", "\n"), timed_out


def interactive(arch, image, initrd):
    cmd = qemu_cmd(arch, image, initrd, "shell", interactive=True)
    print("QEMU: Ctrl-A X quits; 'exit' powers the guest off", flush=True)
    return subprocess.call(cmd)
