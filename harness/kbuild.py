"""Configure and build a guest kernel out of tree, with ccache."""

import filecmp
import os
import re
import shutil

from common import (ARCH, CONFIGS, base_kernel, die, jobs, log, objdir, run,
                    tree, variants)

CONFIG_LINE = re.compile(r"^(CONFIG_\w+)=(.*)$")
UNSET_LINE = re.compile(r"^# (CONFIG_\w+) is not set$")


def fragments(kernel, arch):
    names = ["common.config", f"{arch}.config"]
    if base_kernel(kernel) == "ours":
        names.append("ours.config")
        if os.path.exists(os.path.join(CONFIGS, f"ours-{arch}.config")):
            names.append(f"ours-{arch}.config")
    for v in variants(kernel):
        names.append(f"{v}.config")
        if os.path.exists(os.path.join(CONFIGS, f"{v}-{arch}.config")):
            names.append(f"{v}-{arch}.config")
    return [os.path.join(CONFIGS, n) for n in names]


def parse_config(path):
    """{symbol: value}, with None for '# CONFIG_X is not set'."""
    wanted = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = CONFIG_LINE.match(line)
            if m:
                wanted[m.group(1)] = m.group(2)
                continue
            m = UNSET_LINE.match(line)
            if m:
                wanted[m.group(1)] = None
    return wanted


def make_cmd(kernel, arch, *targets, extra=()):
    a = ARCH[arch]
    cmd = ["make", "-C", tree(kernel), f"O={objdir(kernel, arch)}",
           f"ARCH={a['karch']}", f"-j{jobs()}", "-s"]
    if a["cross"]:
        cmd.append(f"CROSS_COMPILE={a['cross']}")
    if shutil.which("ccache"):
        cmd.append(f"CC=ccache {a['cross']}gcc")
        cmd.append("HOSTCC=ccache gcc")
    cmd.extend(extra)
    cmd.extend(targets)
    return cmd


def configure(kernel, arch):
    """allnoconfig + our fragments; .config is only rewritten when it changes."""
    obj = objdir(kernel, arch)
    os.makedirs(obj, exist_ok=True)
    merged = os.path.join(obj, "hwbp-fragment.config")
    wanted = {}
    with open(merged, "w") as out:
        for frag in fragments(kernel, arch):
            with open(frag) as f:
                out.write(f.read())
            wanted.update(parse_config(frag))

    candidate = os.path.join(obj, ".config.hwbp-candidate")
    run(make_cmd(kernel, arch, "allnoconfig",
                 extra=[f"KCONFIG_ALLCONFIG={merged}",
                        f"KCONFIG_CONFIG={os.path.basename(candidate)}"]),
        logfile=os.path.join(obj, "hwbp-config.log"))

    got = parse_config(candidate)
    dropped = []
    for sym, val in sorted(wanted.items()):
        have = got.get(sym)
        if have != val:
            dropped.append(f"  {sym}: fragment wants {val or 'unset'}, "
                           f".config has {have or 'unset'}")
    if dropped:
        die(f"{kernel}/{arch}: Kconfig did not honour the fragment "
            "(a missing dependency?):\n" + "\n".join(dropped))

    config = os.path.join(obj, ".config")
    if os.path.exists(config) and filecmp.cmp(candidate, config, shallow=False):
        os.unlink(candidate)
    else:
        os.replace(candidate, config)
        log(f"{kernel}/{arch}: new .config ({len(wanted)} fragment symbols "
            "verified)")


def build(kernel, arch):
    """Build the image, the modules (staged) and the UAPI headers."""
    a = ARCH[arch]
    obj = objdir(kernel, arch)
    configure(kernel, arch)
    log(f"{kernel}/{arch}: building kernel")
    run(make_cmd(kernel, arch, a["image_target"], "modules", "headers"),
        logfile=os.path.join(obj, "hwbp-build.log"))
    modroot = os.path.join(obj, "hwbp-modroot")
    shutil.rmtree(modroot, ignore_errors=True)
    run(make_cmd(kernel, arch, "modules_install",
                 extra=[f"INSTALL_MOD_PATH={modroot}", "INSTALL_MOD_STRIP=1"]),
        logfile=os.path.join(obj, "hwbp-modules.log"))
    image = os.path.join(obj, a["image"])
    if not os.path.exists(image):
        die(f"{kernel}/{arch}: no {a['image']} after the build")
    return image


def image_path(kernel, arch):
    return os.path.join(objdir(kernel, arch), ARCH[arch]["image"])
