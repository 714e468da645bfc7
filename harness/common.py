"""Paths, arch table and small process helpers shared by the harness."""

import contextlib
import fcntl
import os
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, "build")
OVERLAY = os.path.join(TOP, "linux")
PATCHES = os.path.join(TOP, "patches")
CONFIGS = os.path.join(TOP, "configs")
GUEST = os.path.join(TOP, "guest")

TARBALL = "/usr/src/linux-source-6.12.tar.xz"
BASE_TREE = os.path.join(BUILD, "src", "base")
OURS_TREE = os.path.join(BUILD, "src", "ours")
BISECT_TREE = os.path.join(BUILD, "src", "bisect")

# The two arches whose backends the series rewrites: lint, bench and
# mutate work on these.
ARCHES = ("x86_64", "arm64")
# The guests make check boots: those two, and 32-bit arm, where the
# upstream arm backend runs under our core (lint cross-builds it: xbuild).
GUEST_ARCHES = ARCHES + ("arm",)
KERNELS = ("ours", "stock")

# Everything that differs between the two guest architectures.
ARCH = {
    "x86_64": {
        "karch": "x86",
        "cross": "",
        "image": "arch/x86/boot/bzImage",
        "image_target": "bzImage",
        "qemu": [
            "qemu-system-x86_64", "-M", "pc", "-smp", "4,sockets=4",
            "-m", "1G",
        ],
        "console": "ttyS0",
        "cc": "gcc",
        "busybox": "/bin/busybox",
    },
    "arm64": {
        "karch": "arm64",
        "cross": "aarch64-linux-gnu-",
        "image": "arch/arm64/boot/Image",
        "image_target": "Image",
        # pauth-impdef: QEMU's cheap pointer-auth hash; the architected
        # QARMA one dominates TCG run time and buys nothing here.
        "qemu": [
            "qemu-system-aarch64", "-M", "virt", "-cpu", "max,pauth-impdef=on",
            "-smp", "4", "-m", "1G",
        ],
        "console": "ttyAMA0",
        "cc": "aarch64-linux-gnu-gcc",
        "busybox": os.path.join(BUILD, "deps", "arm64", "root", "bin",
                                "busybox"),
    },
    # 32-bit arm: an ARMv7 kernel on QEMU's virt board with a Cortex-A15
    # (TCG implements the v7 debug registers: 6 breakpoints, 4
    # watchpoints). highmem=off: the kernel has no LPAE, so every device
    # must sit below 4 GiB. The upstream arm backend, under our core.
    "arm": {
        "karch": "arm",
        "cross": "arm-linux-gnueabihf-",
        "image": "arch/arm/boot/zImage",
        "image_target": "zImage",
        "qemu": [
            "qemu-system-arm", "-M", "virt,highmem=off", "-cpu", "cortex-a15",
            "-smp", "4", "-m", "1G",
        ],
        "console": "ttyAMA0",
        "cc": "arm-linux-gnueabihf-gcc",
        "busybox": os.path.join(BUILD, "deps", "armhf", "root", "bin",
                                "busybox"),
    },
}

# Pinned so that rebuilds and ccache see identical inputs run after run.
BUILD_ENV = {
    "KBUILD_BUILD_TIMESTAMP": "2024-01-01",
    "KBUILD_BUILD_USER": "hwbp",
    "KBUILD_BUILD_HOST": "harness",
    "CCACHE_MAXSIZE": "8G",
    "LC_ALL": "C",
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die(msg):
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)


def jobs():
    return os.cpu_count() or 2


def run(cmd, logfile=None, cwd=None, env=None, check=True):
    """Run cmd; with logfile, send its output there and show the tail on failure."""
    full_env = dict(os.environ)
    full_env.update(BUILD_ENV)
    if env:
        full_env.update(env)
    if logfile is None:
        res = subprocess.run(cmd, cwd=cwd, env=full_env)
    else:
        with open(logfile, "w") as out:
            res = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=out,
                                 stderr=subprocess.STDOUT)
        if res.returncode and check:
            with open(logfile, errors="replace") as f:
                tail = f.readlines()[-40:]
            sys.stdout.write("".join(tail))
    if check and res.returncode:
        die(f"command failed ({res.returncode}): {' '.join(cmd)}"
            + (f"\n  full log: {logfile}" if logfile else ""))
    return res.returncode


def base_version():
    """The base tree's version from its top Makefile, e.g. 6.12.117."""
    fields = {}
    with open(os.path.join(BASE_TREE, "Makefile")) as f:
        for line in f:
            for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
                if line.startswith(key + " ="):
                    fields[key] = line.split("=", 1)[1].strip()
            if len(fields) == 3:
                break
    return "{VERSION}.{PATCHLEVEL}.{SUBLEVEL}".format(**fields)


def base_kernel(kernel):
    """"ours" or "stock", without a variant such as "+kcsan"."""
    return kernel.split("+", 1)[0]


def variants(kernel):
    return kernel.split("+")[1:]


def tree(kernel):
    if base_kernel(kernel) == "bisect":
        return BISECT_TREE
    return OURS_TREE if base_kernel(kernel) == "ours" else BASE_TREE


def objdir(kernel, arch):
    return os.path.join(BUILD, "obj", f"{kernel.replace('+', '-')}-{arch}")


def outdir(kernel, arch):
    """Per-kernel, per-arch products: initramfs, logs."""
    d = os.path.join(BUILD, "out", f"{kernel.replace('+', '-')}-{arch}")
    os.makedirs(d, exist_ok=True)
    return d


@contextlib.contextmanager
def build_lock():
    """Serialise tree syncs and kernel builds between harness processes.

    The machine has two cores: two kernel builds at once would each take
    twice as long and could race on the shared patched tree. A second
    `make check` (or `make bench`) waits here for the first one's build.
    """
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, ".build.lock"), "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another harness process's build")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield
