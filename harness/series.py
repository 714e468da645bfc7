"""Export the patch series described by series/manifest (make patches).

The commits are built in a small git repository holding only the base
versions of the files the series touches (build/series/repo), so
`git format-patch` output applies with `git am` to a full base tree.
"""

import os
import shutil
import subprocess

from common import BASE_TREE, BUILD, OURS_TREE, OVERLAY, TOP, die, log
import tree

SERIES = os.path.join(TOP, "series")
MANIFEST = os.path.join(SERIES, "manifest")
COVER = os.path.join(SERIES, "cover-letter")
REPO = os.path.join(BUILD, "series", "repo")
OUT = os.path.join(BUILD, "patches")

DEFAULT_AUTHOR = "hw-breakpoint project <hw-breakpoint@example.org>"


def parse_manifest():
    """[{subject, body, steps: [(kind, path)]}] in order."""
    commits = []
    with open(MANIFEST) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if line.startswith("subject: "):
                commits.append({"subject": line[len("subject: "):],
                                "body": [], "steps": []})
                continue
            if not commits:
                if line.strip():
                    die(f"{MANIFEST}:{lineno}: text before the first subject")
                continue
            kind, _, rest = line.partition(": ")
            if kind in ("apply", "take", "patch") and rest:
                commits[-1]["steps"].append((kind, rest.strip()))
            elif commits[-1]["steps"]:
                if line.strip():
                    die(f"{MANIFEST}:{lineno}: body text after a directive")
            else:
                commits[-1]["body"].append(line)
    return commits


def check_coverage(commits):
    """Every overlay file and every patches/*.patch, exactly once."""
    want = {("take", rel) for rel in tree.overlay_files()}
    want |= {("patch", os.path.relpath(p, TOP)) for p in tree.patch_list()}
    seen = [(k, p) for c in commits for k, p in c["steps"] if k != "apply"]
    problems = []
    for item in sorted(want - set(seen)):
        problems.append(f"  not in the series: {item[1]}")
    for item in sorted(set(seen) - want):
        problems.append(f"  in the manifest but not in the repository: {item[1]}")
    dupes = {x for x in seen if seen.count(x) > 1}
    for item in sorted(dupes):
        problems.append(f"  listed twice: {item[1]}")
    if problems:
        die("series/manifest does not match the repository:\n"
            + "\n".join(problems))


def git(*args, cwd=REPO, env=None, capture=False):
    full = dict(os.environ)
    full.update(env or {})
    res = subprocess.run(["git", *args], cwd=cwd, env=full, text=True,
                         capture_output=True)
    if res.returncode:
        die(f"git {' '.join(args)} failed:\n{res.stdout}{res.stderr}")
    return res.stdout


def touched_files(commits):
    paths = set()
    for c in commits:
        for kind, path in c["steps"]:
            if kind == "take":
                paths.add(path)
            else:
                paths |= tree.patch_targets(os.path.join(TOP, path))
    return sorted(paths)


def identity(author):
    name, _, mail = author.rpartition(" <")
    mail = mail.rstrip(">")
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": mail,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": mail,
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
            "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000"}


def export(author=None):
    """Build the commits and write build/patches; returns the patch paths."""
    author = author or os.environ.get("AUTHOR") or DEFAULT_AUTHOR
    env = identity(author)
    commits = parse_manifest()
    check_coverage(commits)
    tree.unpack_base()
    paths = touched_files(commits)

    shutil.rmtree(REPO, ignore_errors=True)
    os.makedirs(REPO)
    git("init", "-q", "-b", "base")
    git("config", "core.autocrlf", "false")
    for rel in paths:
        src = os.path.join(BASE_TREE, rel)
        if os.path.exists(src):
            os.makedirs(os.path.dirname(os.path.join(REPO, rel)),
                        exist_ok=True)
            shutil.copyfile(src, os.path.join(REPO, rel))
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m",
        "base: Debian linux-source-6.12 (the files the series touches)",
        env=env)
    git("tag", "base")

    for c in commits:
        for kind, path in c["steps"]:
            if kind == "take":
                dst = os.path.join(REPO, path)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(os.path.join(OVERLAY, path), dst)
            else:
                res = subprocess.run(
                    ["patch", "-p1", "-s", "-f", "--no-backup-if-mismatch",
                     "-i", os.path.join(TOP, path)], cwd=REPO,
                    capture_output=True, text=True)
                if res.returncode:
                    die(f"{path} does not apply in the series:\n"
                        f"{res.stdout}{res.stderr}")
        body = "\n".join(c["body"]).strip()
        message = f"{c['subject']}\n\n{body}\n\nSigned-off-by: {author}\n"
        git("add", "-A")
        git("commit", "-q", "-m", message, env=env)

    shutil.rmtree(OUT, ignore_errors=True)
    with open(COVER) as f:
        cover_subject, _, cover_body = f.read().partition("\n")
    git("format-patch", "-q", "--cover-letter", "--no-signature",
        "--subject-prefix=PATCH", "-o", OUT, "base..HEAD", env=env)
    cover = os.path.join(OUT, "0000-cover-letter.patch")
    with open(cover) as f:
        text = f.read()
    text = text.replace("*** SUBJECT HERE ***", cover_subject.strip())
    text = text.replace("*** BLURB HERE ***", cover_body.strip())
    with open(cover, "w") as f:
        f.write(text)

    verify_final()
    patches = sorted(os.path.join(OUT, p) for p in os.listdir(OUT))
    log(f"series: {len(patches) - 1} patches and a cover letter in {OUT}")
    return patches


def verify_final():
    """The series' end state equals the tree make check builds."""
    tree.sync_ours()
    differ = []
    for rel in git("ls-files").split("\n"):
        if not rel:
            continue
        ours = os.path.join(OURS_TREE, rel)
        mine = os.path.join(REPO, rel)
        with open(mine, "rb") as a:
            data = a.read()
        if not os.path.exists(ours):
            differ.append(rel)
            continue
        with open(ours, "rb") as b:
            if b.read() != data:
                differ.append(rel)
    if differ:
        die("the series does not end in the tested tree: "
            + ", ".join(differ))


def apply_check(patches):
    """git am the series onto a fresh repository of the base files."""
    scratch = os.path.join(BUILD, "series", "am-check")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    env = identity(DEFAULT_AUTHOR)
    git("init", "-q", cwd=scratch)
    for rel in git("ls-tree", "-r", "--name-only", "base").split("\n"):
        if rel:
            dst = os.path.join(scratch, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(BASE_TREE, rel), dst)
    git("add", "-A", cwd=scratch)
    git("commit", "-q", "--allow-empty", "-m", "base", cwd=scratch, env=env)
    git("am", "-q", *[p for p in patches if "cover-letter" not in p],
        cwd=scratch, env=env)
    return True


def exported_patches():
    if not os.path.isdir(OUT):
        return []
    return sorted(os.path.join(OUT, p) for p in os.listdir(OUT)
                  if p.endswith(".patch"))



def bisect_check(arch="x86_64"):
    """Build the kernel after each patch of the series (make lint FULL=1).

    build/src/bisect starts as a hard-linked copy of the base tree; before
    each build the files the series touches are set to their content at
    that commit (rewritten only when it changes, so each build after the
    first is incremental). Returns a results.Suite, one test per patch.
    """
    import kbuild
    from common import BISECT_TREE
    from results import Suite

    suite = Suite(f"lint:bisect:{arch}")
    export()
    if not os.path.exists(os.path.join(BISECT_TREE, "Makefile")):
        shutil.rmtree(BISECT_TREE, ignore_errors=True)
        subprocess.run(["cp", "-al", BASE_TREE, BISECT_TREE], check=True)
    paths = git("ls-tree", "-r", "--name-only", "HEAD").split()
    commits = git("rev-list", "--reverse", "base..HEAD").split()
    for n, commit in enumerate(commits, 1):
        present = set(git("ls-tree", "-r", "--name-only", commit).split())
        for rel in paths:
            dst = os.path.join(BISECT_TREE, rel)
            if rel in present:
                data = subprocess.run(["git", "show", f"{commit}:{rel}"],
                                      cwd=REPO, capture_output=True,
                                      check=True).stdout
            else:
                src = os.path.join(BASE_TREE, rel)
                data = open(src, "rb").read() if os.path.exists(src) else None
            old = open(dst, "rb").read() if os.path.exists(dst) else None
            if data == old:
                continue
            if os.path.lexists(dst):
                os.unlink(dst)
            if data is not None:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(dst, "wb") as f:
                    f.write(data)
        subject = git("log", "-1", "--format=%s", commit).strip()
        log(f"bisect {arch}: building after patch {n}/{len(commits)}: {subject}")
        try:
            kbuild.build("bisect", arch)
            suite.passed += 1
        except SystemExit:
            suite.fail(f"patch {n} ({subject}) does not build")
    return suite
