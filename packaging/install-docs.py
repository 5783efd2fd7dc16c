#!/usr/bin/env python3
"""Writes the Markdown guides as they are installed, with their links fixed.

In the source tree README.md links docs/operations.md, the guides link each
other and source files (../plugins/hello/hello.c). Installed, the guides sit
in other folders (packaging/meson.build says which) and the sources are not
there, so those relative links would point at nothing. This rewrites every
relative link of each guide:
  - to another installed guide: the relative path between the two installed
    folders (README.md -> operations.md, or ../bentos-driver/patterns.md);
  - to a file installed elsewhere (a header): its absolute installed path;
  - to anything else of the source tree: plain text naming the source path.
Links inside fenced code blocks, URLs and #anchors are left as they are.

    install-docs.py SOURCE_ROOT OUTPUT_DIR ENTRY...

An ENTRY is SOURCE_PATH=INSTALL_DIR: a guide (a .md file, written to
OUTPUT_DIR under its own name; INSTALL_DIR relative to the prefix) or any
other installed file (INSTALL_DIR absolute, only used as a link target).
A SOURCE_PATH ending in / maps a whole source folder.
"""

import os
import posixpath
import re
import sys

# [text](target) with a target that has no spaces; images (![...]) too.
LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)")


def installed_location(repo_path, entries):
    """Where repo_path is installed (a folder path), or None."""
    if repo_path in entries:
        return posixpath.join(entries[repo_path], posixpath.basename(repo_path))
    for source, install_dir in entries.items():
        if source.endswith("/") and repo_path.startswith(source):
            return posixpath.join(install_dir, repo_path[len(source):])
    return None


def rewrite(doc, text, entries, source_root):
    doc_dir = entries[doc]

    def fix(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(doc), path))
        if not os.path.exists(os.path.join(source_root, repo_path)):
            # Dead in the source tree already: leave it for a reviewer.
            return match.group(0)
        where = installed_location(repo_path, entries)
        if where is None:
            return "%s (`%s` in the source tree)" % (label, repo_path)
        if not where.startswith("/"):
            where = posixpath.relpath(where, doc_dir)
        return "[%s](%s%s)" % (label, where, "#" + anchor if anchor else "")

    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append(line if fenced else LINK.sub(fix, line))
    return "".join(out)


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    source_root, output_dir = argv[1], argv[2]
    entries = {}
    for entry in argv[3:]:
        source, sep, install_dir = entry.partition("=")
        if not sep:
            sys.stderr.write("install-docs.py: entry '%s' is not SOURCE=DIR\n" % entry)
            return 2
        entries[source] = install_dir
    os.makedirs(output_dir, exist_ok=True)
    for doc, install_dir in entries.items():
        if not doc.endswith(".md") or install_dir.startswith("/"):
            continue
        with open(os.path.join(source_root, doc), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(output_dir, posixpath.basename(doc)), "w", encoding="utf-8") as f:
            f.write(rewrite(doc, text, entries, source_root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
