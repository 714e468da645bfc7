"""The base tree (pristine, unpacked once) and our patched tree.

The patched tree starts as a hard-linked copy of the base tree. On every run
the files we own (linux/ overlay, then patches/ applied on top) are computed
in a scratch directory and written into the patched tree only where their
content changed, so kbuild rebuilds exactly what a change touched. Files we
stop owning are restored from the base tree with a fresh mtime, so they are
rebuilt too. Every write replaces the directory entry (unlink + create) and
never writes through a hard link into the base tree.
"""

import filecmp
import os
import shutil
import subprocess
import tempfile

import extras
from common import (BASE_TREE, BUILD, OURS_TREE, OVERLAY, PATCHES, TARBALL,
                    die, log, run)

MANIFEST = OURS_TREE + ".files"


def unpack_base():
    if os.path.exists(os.path.join(BASE_TREE, "Makefile")):
        return
    if not os.path.exists(TARBALL):
        die(f"{TARBALL} missing: run 'make setup'")
    log(f"unpacking {TARBALL}")
    scratch = BASE_TREE + ".tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    run(["tar", "-xJf", TARBALL, "-C", scratch])
    (top,) = os.listdir(scratch)
    os.rename(os.path.join(scratch, top), BASE_TREE)
    os.rmdir(scratch)


def overlay_files():
    """The overlay's files: what git tracks or would track (build products
    that .gitignore names, such as the user-space test's binaries when it
    was built in place, stay out of the patched tree)."""
    res = subprocess.run(["git", "-C", OVERLAY, "ls-files", "-z", "--cached",
                          "--others", "--exclude-standard", "."],
                         capture_output=True)
    if res.returncode == 0:
        return sorted(p.decode() for p in res.stdout.split(b"\0")
                      if p and os.path.basename(p.decode()) != ".gitkeep"
                      and os.path.isfile(os.path.join(OVERLAY, p.decode())))
    out = []
    for root, dirs, files in os.walk(OVERLAY):
        dirs.sort()
        for name in sorted(files):
            if name == ".gitkeep":
                continue
            path = os.path.join(root, name)
            out.append(os.path.relpath(path, OVERLAY))
    return out


def patch_list():
    if not os.path.isdir(PATCHES):
        return []
    return sorted(os.path.join(PATCHES, p) for p in os.listdir(PATCHES)
                  if p.endswith(".patch"))


def patch_targets(patch):
    """Paths (relative to the tree) that a -p1 unified diff touches."""
    targets = set()
    with open(patch, errors="replace") as f:
        for line in f:
            if line.startswith(("--- ", "+++ ")):
                path = line[4:].split("\t")[0].strip()
                if path == "/dev/null":
                    continue
                targets.add(path.split("/", 1)[1])
    return targets


def compute_owned(scratch):
    """Build every file we own in scratch; return {relpath: exists}.

    "Owned" here also covers the harness's test-only extras (extras.py),
    which are not part of the series.
    """
    owned = {}
    for rel in overlay_files():
        dst = os.path.join(scratch, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(OVERLAY, rel), dst)
        owned[rel] = True
    for patch in patch_list():
        for rel in patch_targets(patch):
            dst = os.path.join(scratch, rel)
            if rel not in owned:
                src = os.path.join(BASE_TREE, rel)
                if os.path.exists(src):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copyfile(src, dst)
            owned[rel] = True
        res = subprocess.run(["patch", "-p1", "-s", "-f", "-E",
                              "--no-backup-if-mismatch", "-d", scratch,
                              "-i", patch], capture_output=True, text=True)
        if res.returncode:
            die(f"{os.path.basename(patch)} does not apply:\n{res.stdout}"
                f"{res.stderr}")
    for rel in extras.apply(scratch, owned):
        owned[rel] = True
    for rel in owned:
        owned[rel] = os.path.exists(os.path.join(scratch, rel))
    return owned


def replace(src, dst):
    """Make dst a fresh copy of src (new inode, new mtime)."""
    if os.path.lexists(dst):
        os.unlink(dst)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def sync_ours():
    """Bring build/src/ours up to date; return the list of files we own."""
    unpack_base()
    if not os.path.exists(os.path.join(OURS_TREE, "Makefile")):
        log("creating the patched tree (hard-linked copy of the base)")
        shutil.rmtree(OURS_TREE, ignore_errors=True)
        if os.path.exists(MANIFEST):
            os.unlink(MANIFEST)
        run(["cp", "-al", BASE_TREE, OURS_TREE])

    previous = set()
    if os.path.exists(MANIFEST):
        with open(MANIFEST) as f:
            previous = {line.rstrip("\n") for line in f if line.strip()}

    os.makedirs(BUILD, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD) as scratch:
        owned = compute_owned(scratch)
        changed = []
        for rel, exists in sorted(owned.items()):
            dst = os.path.join(OURS_TREE, rel)
            if exists:
                src = os.path.join(scratch, rel)
                if not (os.path.isfile(dst) and
                        filecmp.cmp(src, dst, shallow=False)):
                    replace(src, dst)
                    changed.append(rel)
            elif os.path.lexists(dst):
                os.unlink(dst)
                changed.append(rel)

    for rel in sorted(previous - set(owned)):
        dst = os.path.join(OURS_TREE, rel)
        src = os.path.join(BASE_TREE, rel)
        if os.path.exists(src):
            replace(src, dst)
        elif os.path.lexists(dst):
            os.unlink(dst)
        changed.append(rel)

    with open(MANIFEST + ".new", "w") as f:
        f.writelines(rel + "\n" for rel in sorted(owned))
    os.rename(MANIFEST + ".new", MANIFEST)
    if changed:
        log(f"patched tree: {len(changed)} file(s) updated: "
            + ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else ""))
    return sorted(owned)
