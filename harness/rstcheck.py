#!/usr/bin/env python3
"""Check reStructuredText files with docutils, Sphinx-only directives
(kernel-doc, toctree, ...) accepted as no-ops; print every warning and
exit 1 if there is any. Usage: rstcheck.py FILE..."""

import sys

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles


class Ignored(Directive):
    """A Sphinx directive: its arguments and options are not checked."""
    has_content = True
    optional_arguments = 10
    final_argument_whitespace = True
    option_spec = None

    def run(self):
        return []


class AnyOptions(dict):
    def __missing__(self, key):
        return directives.unchanged


Ignored.option_spec = AnyOptions()

for name in ("kernel-doc", "toctree", "only", "c:function", "c:macro"):
    directives.register_directive(name, Ignored)
for name in ("ref", "doc", "c:func", "c:type", "c:macro", "manpage"):
    roles.register_generic_role(name, nodes.literal)


def main(paths):
    bad = 0
    for path in paths:
        with open(path) as f:
            text = f.read()
        doctree = publish_doctree(text, source_path=path, settings_overrides={
            "report_level": 5, "halt_level": 5, "warning_stream": False})
        for msg in doctree.traverse(nodes.system_message):
            if msg["level"] >= 2:
                bad += 1
                print(f"{path}:{msg.get('line', '?')}: {msg.astext()}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
