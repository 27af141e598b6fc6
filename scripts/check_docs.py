#!/usr/bin/env python3
"""Checks the user documents: every relative link in README.md, CHANGELOG.md,
docs/*.md and datasets/README.md resolves (the file exists and, for
file.md#anchor, the heading does), and docs/configs.md names every config key
that `deeplab config print` shows.

    scripts/check_docs.py [--deeplab build/deeplab]

Without --deeplab only the links are checked. Exits 1 and lists each problem.
Links to other sites are not fetched (the machines have no internet).
"""
import argparse
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCUMENTS = ["README.md", "CHANGELOG.md", "datasets/README.md", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def prose_lines(text, keep_code=False):
    """The lines outside fenced code blocks, with inline code removed unless
    `keep_code` (a heading's id keeps the text of its code spans)."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.strip()):
            inside = not inside
            continue
        if not inside:
            yield number, line if keep_code else re.sub(r"`[^`]*`", "", line)


def github_anchor(heading):
    """The id GitHub gives a heading: lower case, punctuation dropped,
    spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(path):
    seen = {}
    anchors = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8"), keep_code=True):
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        if not match:
            continue
        base = github_anchor(match.group(2))
        count = seen.get(base, 0)
        anchors.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return anchors


def check_links():
    problems = []
    for name in DOCUMENTS:
        document = ROOT / name
        if not document.exists():
            problems.append(f"{name}: missing")
            continue
        for number, line in prose_lines(document.read_text(encoding="utf-8")):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # http(s), mailto: not fetched
                path_part, _, anchor = target.partition("#")
                resolved = (document.parent / path_part).resolve() if path_part else document
                where = f"{name}:{number}: link '{target}'"
                if not resolved.exists():
                    problems.append(f"{where}: {resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved} does not exist")
                elif anchor and resolved.suffix == ".md" and anchor not in anchors_of(resolved):
                    problems.append(f"{where}: no heading '#{anchor}' in {resolved.relative_to(ROOT)}")
    return problems


def config_keys(deeplab):
    """Dotted paths of every leaf key `deeplab config print` shows."""
    printed = subprocess.run(
        [deeplab, "config", "print", "-c", str(ROOT / "configs/quickstart/synthetic_voc.yaml")],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout
    keys, stack = [], []
    for line in printed.splitlines():
        match = re.match(r"^( *)([A-Za-z_0-9]+):(.*)$", line)
        if not match:
            continue
        depth = len(match.group(1)) // 2
        stack[depth:] = [match.group(2)]
        if match.group(3).strip():
            keys.append(".".join(stack))
    return keys


def check_config_keys(deeplab):
    reference = (ROOT / "docs/configs.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_0-9.]+)`", reference))
    return [f"docs/configs.md: config key '{key}' is not named (`deeplab config print` shows it)"
            for key in config_keys(deeplab) if key not in named]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deeplab", help="the deeplab binary; checks docs/configs.md against it")
    args = parser.parse_args()
    problems = check_links()
    if args.deeplab:
        problems += check_config_keys(args.deeplab)
    for problem in problems:
        print(problem)
    if problems:
        print(f"docs: {len(problems)} problem(s)")
        return 1
    print(f"docs: ok ({len(DOCUMENTS)} documents)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
