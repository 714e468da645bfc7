"""The guest's user space: suite manifest, static test programs, initramfs."""

import gzip
import os
import re
import shlex
import shutil
import stat
import subprocess

from common import (ARCH, BUILD, GUEST, TOP, base_kernel, die, objdir, outdir,
                    tree, variants)

MANIFEST = os.path.join(GUEST, "suites.txt")
DEMO = os.path.join(GUEST, "src", "hwbp_demo.c")

# Debian's user space for each guest arch, unpacked by harness/deps.sh:
# (its root, the multiarch directory its libraries live in).
DEBIAN = {
    "x86_64": (os.path.join(BUILD, "deps", "amd64", "root"),
               "x86_64-linux-gnu"),
    "arm64": (os.path.join(BUILD, "deps", "arm64", "root"),
              "aarch64-linux-gnu"),
    "arm": (os.path.join(BUILD, "deps", "armhf", "root"),
            "arm-linux-gnueabihf"),
}


def _arches(field):
    return set(ARCH) if field == "all" else set(field.split(","))


def _parse(arch, kernel):
    """Every line of the manifest that applies to arch and kernel."""
    m = {"kunit": [], "suites": [], "expects": [], "boot": {},
         "programs": [], "tools": {}, "allow": [], "cmdline": []}
    only = None
    with open(MANIFEST) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            kind = words[0]
            if kind == "kunit" and len(words) in (3, 4):
                kernels = words[3] if len(words) == 4 else "all"
                if arch in _arches(words[2]) and kernels in ("all",
                                                            base_kernel(kernel)):
                    m["kunit"].append(words[1])
            elif kind == "suite" and len(words) == 5:
                # "variant": only on the variant kernels that list it.
                if arch in _arches(words[2]) or (words[2] == "variant" and
                                                 variants(kernel)):
                    m["suites"].append((words[1], int(words[3]), words[4]))
            elif kind == "program" and len(words) == 5:
                if arch in _arches(words[2]):
                    m["programs"].append((words[1], words[3], words[4]))
            elif kind == "tools" and len(words) >= 4:
                if arch in _arches(words[2]):
                    m["tools"].setdefault(words[1], []).extend(words[3:])
            elif kind == "variant" and len(words) >= 4:
                if words[1] in variants(kernel) and arch in _arches(words[2]):
                    only = set(words[3:])
            elif kind == "boot" and len(words) == 4:
                if arch in _arches(words[2]):
                    m["boot"][words[1]] = words[3]
            elif kind == "cmdline" and len(words) == 3:
                if arch in _arches(words[1]):
                    m["cmdline"].append(words[2].replace("{seed}", str(seed())))
            elif kind == "allow" and len(words) >= 4:
                if arch in _arches(words[1]):
                    m["allow"].append((words[2],
                                       line.split(None, 3)[3].strip()))
            elif kind == "expect" and len(words) >= 6:
                if arch in _arches(words[2]):
                    m["expects"].append((words[1], words[3], words[4],
                                         line.split(None, 5)[5].strip()))
            else:
                die(f"{MANIFEST}:{lineno}: cannot parse: {line.strip()}")
    # HWBP_ONLY=suite,...: a subset, for a quick rerun or a mutant's boot.
    if os.environ.get("HWBP_ONLY"):
        wanted = set(os.environ["HWBP_ONLY"].split(","))
        only = wanted if only is None else only & wanted
    if only is not None:
        m["kunit"] = [k for k in m["kunit"] if "kunit:" + k in only]
        m["suites"] = [x for x in m["suites"] if x[0] in only]
        m["boot"] = {k: v for k, v in m["boot"].items() if k in only}
    # Helpers and tools only come along with a suite that runs.
    running = {x[0] for x in m["suites"]}
    m["programs"] = [x for x in m["programs"] if x[1] in running]
    m["tools"] = {k: v for k, v in m["tools"].items() if k in running}
    return m


def manifest(arch, kernel):
    """Suites for arch: (kunit names, [(name, timeout, source)], expects,
    {boot suite: kernel parameter})."""
    m = _parse(arch, kernel)
    return m["kunit"], m["suites"], m["expects"], m["boot"]


DEFAULT_SEED = 20261201


def seed():
    """The seed of every randomised test in this run: fixed, so that CI is
    reproducible, unless HWBP_SEED says otherwise (make check SEED=N, or
    SEED=random: the harness picks and prints one)."""
    return int(os.environ.get("HWBP_SEED", DEFAULT_SEED))


def cmdline(arch, kernel):
    """Kernel parameters every boot gets (the manifest's "cmdline" lines)."""
    return _parse(arch, kernel)["cmdline"]


def allowed(arch, kernel):
    """(regex, reason) of kernel messages the manifest lets pass."""
    return _parse(arch, kernel)["allow"]


def variant_arches(kernel):
    """The arches a variant of kernel runs on (all arches for none)."""
    if not variants(kernel):
        return set(ARCH)
    arches = set()
    with open(MANIFEST) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) >= 4 and words[0] == "variant" and \
                    words[1] in variants(kernel):
                arches |= _arches(words[2])
    return arches


COMPAT_CC = "arm-linux-gnueabihf-gcc"


def compile_program(kernel, arch, source, out):
    """Build one static guest program against the tree's own UAPI headers
    (a .sh source is a busybox shell script, taken as it is)."""
    if source.endswith(".sh"):
        shutil.copyfile(os.path.join(TOP, source), out)
        return None
    uapi = os.path.join(objdir(kernel, arch), "usr", "include")
    if source.startswith("tree:"):
        src = os.path.join(tree(kernel), source[len("tree:"):])
        # As kselftest's lib.mk builds them: no optimisation flags.
        extra = ["-O0", "-I", os.path.join(tree(kernel), "tools", "testing",
                                           "selftests")]
    else:
        src = os.path.join(TOP, source)
        extra = ["-O2"]
    cc = ARCH[arch]["cc"]
    headers = ["-isystem", uapi]
    if source.endswith(".arm32.c"):
        # An AArch32 program for the arm64 guest's compat support: the
        # 32-bit cross compiler with its own (arm) UAPI headers.
        cc, headers = COMPAT_CC, []
    cmd = [cc, "-static", "-g0", "-Wall",
           "-D_GNU_SOURCE", "-I", os.path.join(GUEST, "include"),
           *headers, *extra, "-o", out, src, "-lpthread"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        return res.stdout + res.stderr
    return None


class Cpio:
    """A minimal newc archive writer: root-owned, mtime 0, reproducible."""

    def __init__(self):
        self.chunks = []
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b""):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0,
            len(name_b), 0))
        self.ino += 1
        blob = hdr.encode() + name_b
        blob += b"\0" * (-len(blob) % 4)
        blob += data + b"\0" * (-len(data) % 4)
        self.chunks.append(blob)

    def dir(self, name):
        if name not in self.dirs:
            self.dirs.add(name)
            self._entry(name, stat.S_IFDIR | 0o755)

    def parents(self, name):
        """The directories above name, each once."""
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/".join(parts[:i]))

    def file(self, name, data, mode=0o755):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def tree(self, prefix, root):
        """Add the directory root as prefix (e.g. installed modules)."""
        for base, dirs, files in os.walk(root):
            dirs.sort()
            rel = os.path.relpath(base, root)
            dst = prefix if rel == "." else f"{prefix}/{rel}"
            self.dir(dst)
            for name in sorted(files):
                path = os.path.join(base, name)
                if os.path.islink(path):
                    self.symlink(f"{dst}/{name}", os.readlink(path))
                else:
                    with open(path, "rb") as f:
                        self.file(f"{dst}/{name}", f.read(), 0o644)

    def write(self, path):
        self._entry("TRAILER!!!", 0)
        with open(path + ".tmp", "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                               compresslevel=6) as gz:
                for c in self.chunks:
                    gz.write(c)
        os.replace(path + ".tmp", path)


def busybox_applets():
    """Applet names, asked of the host's busybox (same Debian version)."""
    out = subprocess.run(["/bin/busybox", "--list"], capture_output=True,
                         text=True, check=True).stdout
    return sorted(set(out.split()))


NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(.+)\]")
INTERP = re.compile(r"Requesting program interpreter: (\S+)\]")


def _in_root(root, rel):
    """rel (a path inside root) with symlinks in its last component
    followed inside root; None if it does not exist there."""
    for _ in range(16):
        path = os.path.join(root, rel)
        if not os.path.islink(path):
            return rel if os.path.isfile(path) else None
        target = os.readlink(path)
        if target.startswith("/"):
            rel = target.lstrip("/")
        else:
            rel = os.path.normpath(os.path.join(os.path.dirname(rel), target))
    return None


def _elf_deps(path):
    """(interpreter or None, [sonames]) of one ELF file, from readelf."""
    out = subprocess.run(["readelf", "-dlW", path], capture_output=True,
                         text=True, check=True).stdout
    interp = INTERP.search(out)
    return (interp.group(1) if interp else None), NEEDED.findall(out)


def pack_tools(cpio, arch, paths):
    """Add Debian's binaries (paths inside the arch's unpacked root), the
    shared libraries they need (DT_NEEDED, followed recursively) and the
    dynamic loader. Returns an error text, or None."""
    root, triplet = DEBIAN[arch]
    libdirs = [f"lib/{triplet}", f"usr/lib/{triplet}", "lib", "usr/lib"]
    files = {}       # path in the guest -> path inside root
    links = {}       # loader path -> where the loader really is
    todo, seen, missing = [], set(), []
    for p in paths:
        rel = _in_root(root, p.lstrip("/"))
        if rel is None:
            return f"{root}/{p.lstrip('/')} missing: run 'make setup'"
        files[p.lstrip("/")] = rel
        todo.append(rel)
    while todo:
        interp, needed = _elf_deps(os.path.join(root, todo.pop()))
        if interp and interp.lstrip("/") not in links:
            real = _in_root(root, interp.lstrip("/"))
            if real is None:
                missing.append(interp)
                continue
            links[interp.lstrip("/")] = real
            if real not in files:
                files[real] = real
                todo.append(real)
        for soname in needed:
            if soname in seen:
                continue
            seen.add(soname)
            for d in libdirs:
                real = _in_root(root, f"{d}/{soname}")
                if real:
                    break
            else:
                missing.append(soname)
                continue
            if f"{d}/{soname}" not in files:
                files[f"{d}/{soname}"] = real
                todo.append(real)
    if missing:
        return (f"{', '.join(sorted(missing))} not in {root}: add the "
                "packages providing them to CLIENT_PKGS in harness/deps.sh")
    for dst in sorted(files):
        cpio.parents(dst)
        with open(os.path.join(root, files[dst]), "rb") as f:
            cpio.file(dst, f.read())
    for link, real in sorted(links.items()):
        if link != real:
            # The loader packed once, under the name its libraries use.
            target = next(dst for dst, src in files.items() if src == real)
            cpio.parents(link)
            cpio.symlink(link, "/" + target)
    return None


def build_initramfs(kernel, arch):
    """Compile the suites and pack the initramfs; returns (path, errors).

    errors maps a suite name to its compiler output when it did not build;
    such a suite is left out of the guest and reported as failed.
    """
    out = outdir(kernel, arch)
    bindir = os.path.join(out, "bin")
    os.makedirs(bindir, exist_ok=True)
    m = _parse(arch, kernel)
    suites = m["suites"]

    busybox = ARCH[arch]["busybox"]
    if not os.path.exists(busybox):
        die(f"{busybox} missing: run 'make setup'")

    cpio = Cpio()
    for d in ("bin", "dev", "etc", "etc/hwbp", "lib", "proc", "sys", "tmp",
              "root"):
        cpio.dir(d)
    cpio.symlink("sbin", "bin")
    with open(busybox, "rb") as f:
        cpio.file("bin/busybox", f.read())
    for applet in busybox_applets():
        if applet != "busybox":
            cpio.symlink(f"bin/{applet}", "busybox")
    with open(os.path.join(GUEST, "init"), "rb") as f:
        cpio.file("init", f.read())

    errors = {}
    lines = []
    programs = [(name, timeout, src) for name, timeout, src in suites]
    programs.append(("hwbp_demo", 0, os.path.relpath(DEMO, TOP)))
    for name, timeout, source in programs:
        exe = os.path.join(bindir, name)
        err = compile_program(kernel, arch, source, exe)
        if err:
            errors[name] = err
            continue
        with open(exe, "rb") as f:
            cpio.file(f"bin/{name}", f.read())
        if timeout:
            lines.append(f"{name} {timeout} {shlex.quote('/bin/' + name)}\n")
    cpio.file("etc/hwbp/suites", "".join(lines).encode(), 0o644)

    # What the script suites drive: helper programs and Debian's tools.
    for name, suite, source in m["programs"]:
        exe = os.path.join(bindir, name)
        err = compile_program(kernel, arch, source, exe)
        if err:
            errors.setdefault(suite, f"{name}: {err}")
            continue
        with open(exe, "rb") as f:
            cpio.file(f"bin/{name}", f.read())
    for suite, paths in sorted(m["tools"].items()):
        err = pack_tools(cpio, arch, paths)
        if err:
            errors.setdefault(suite, err)
    # The guest's kernel configuration (CONFIG_HZ and the like), for suites
    # whose expectations depend on it.
    config = os.path.join(objdir(kernel, arch), ".config")
    if os.path.exists(config):
        with open(config, "rb") as f:
            cpio.file("etc/hwbp/kernel.config", f.read(), 0o644)

    modroot = os.path.join(objdir(kernel, arch), "hwbp-modroot", "lib",
                           "modules")
    if os.path.isdir(modroot):
        cpio.tree("lib/modules", modroot)

    path = os.path.join(out, "initramfs.cpio.gz")
    cpio.write(path)
    return path, errors

