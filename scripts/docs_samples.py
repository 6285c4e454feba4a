"""The sample outputs written in docs/*.rst, checked against the code.

Every sample output in the docs is written in the page itself, so that it
reads the same on a code host, in an editor or built by Sphinx. A comment
names the sample just before its block::

    .. sample: catalog-app-blog

    .. code-block:: text

        ...the output of `python manage.py signals --app blog`...

The example project's tests (``example_project/tests/test_docs_samples.py``
and ``test_tracing.py``) make each sample from the code and compare it with
the block, through :func:`check_sample`; ``pycon`` blocks run as doctests,
through :func:`check_pycon`. Run this file to do the same from the command
line::

    python scripts/docs_samples.py            # fail when a sample is stale
    python scripts/docs_samples.py --write    # rewrite the stale samples

(``make docs-samples`` runs the second.)
"""

from __future__ import annotations

import argparse
import doctest
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "example_project"
# Set by --write: the tests rewrite stale samples instead of failing.
UPDATE_VARIABLE = "SIGNALKIT_UPDATE_DOCS"
# The example project's tests that make the samples.
SAMPLE_TESTS = ("tests/test_docs_samples.py", "tests/test_tracing.py")

_MARKER = re.compile(r"^(?P<indent> *)\.\. sample: (?P<name>[\w.-]+)\s*$")
_DIRECTIVE = re.compile(r"^ *\.\. code-block:: *\S*\s*$")


def updating() -> bool:
    return os.environ.get(UPDATE_VARIABLE) == "1"


@dataclass(frozen=True)
class Block:
    """The body of a code block in a page: lines ``start`` to ``end`` (excluded)."""

    page: Path
    name: str
    start: int
    end: int
    indent: int


def _body(lines: list[str], directive: int, indent: int) -> tuple[int, int]:
    """Where the body of the directive at line *directive* starts and ends."""
    index = directive + 1
    # Options (":language: text"), then one blank line, then the body.
    while index < len(lines) and lines[index].strip().startswith(":"):
        index += 1
    start = index
    end = start
    for number in range(start, len(lines)):
        line = lines[number]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip():
            end = number + 1
    return start, end


def blocks(page: Path) -> Iterator[Block]:
    """The named sample blocks of *page*, in page order."""
    lines = page.read_text().split("\n")
    for number, line in enumerate(lines):
        marker = _MARKER.match(line)
        if marker is None:
            continue
        directive = number + 1
        while directive < len(lines) and not lines[directive].strip():
            directive += 1
        if directive == len(lines) or not _DIRECTIVE.match(lines[directive]):
            raise ValueError(
                f"{page.name}:{number + 1}: '.. sample: {marker['name']}' must be "
                f"followed by a code-block directive."
            )
        indent = len(marker["indent"])
        start, end = _body(lines, directive, indent)
        yield Block(page, marker["name"], start, end, indent)


def pages(docs: Path = DOCS) -> list[Path]:
    return sorted(docs.glob("*.rst"))


def sample_names(docs: Path = DOCS) -> set[str]:
    """Every sample named in every page."""
    return {block.name for page in pages(docs) for block in blocks(page)}


def sample_texts(name: str) -> list[str]:
    """The text of every block named *name*, in page order."""
    texts = []
    for page in pages():
        lines = page.read_text().split("\n")
        texts += [
            _normalized(_text(lines, block))
            for block in blocks(page)
            if block.name == name
        ]
    return texts


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def _text(lines: list[str], block: Block) -> str:
    return textwrap.dedent("\n".join(lines[block.start : block.end]))


def _replace(lines: list[str], block: Block, text: str) -> None:
    prefix = " " * (block.indent + 4)
    body = [prefix + line if line else "" for line in _normalized(text).split("\n")]
    lines[block.start : block.end] = ["", *body]


def check_sample(name: str, text: str, *, docs: Path = DOCS) -> None:
    """Compare *text* with every block named *name*; rewrite them when updating.

    :raises AssertionError: when a block differs or no page has the sample.
    """
    __tracebackhide__ = True
    found = False
    stale = []
    for page in pages(docs):
        # Found again after each rewrite: a rewrite moves the lines below.
        while True:
            lines = page.read_text().split("\n")
            block = next(
                (
                    block
                    for block in blocks(page)
                    if block.name == name
                    and _normalized(_text(lines, block)) != _normalized(text)
                    and (block.page, block.start + 2) not in stale
                ),
                None,
            )
            found = found or any(block.name == name for block in blocks(page))
            if block is None:
                break
            if not updating():
                stale.append((block.page, block.start + 2))
                continue
            _replace(lines, block, text)
            page.write_text("\n".join(lines))
    assert found, f"no page has the sample {name!r} ('.. sample: {name}')"
    assert not stale, (
        f"the sample {name!r} is stale in "
        f"{', '.join(f'docs/{page.name}:{start}' for page, start in stale)}: "
        f"{HOW_TO_UPDATE}"
    )


HOW_TO_UPDATE = "run `python scripts/docs_samples.py --write` (or `make docs-samples`)"


class _Runner(doctest.DocTestRunner):
    """A doctest runner that keeps what each failing example printed."""

    def __init__(self) -> None:
        super().__init__(optionflags=doctest.ELLIPSIS)
        self.got: list[tuple[doctest.Example, str]] = []

    def report_failure(
        self, out: Any, test: doctest.DocTest, example: doctest.Example, got: str
    ) -> None:
        if example.exc_msg is not None:
            # An exception other than the one shown: doctest gives the whole
            # traceback; the page shows only its last lines, as Python does.
            lines = got.rstrip("\n").split("\n")
            last_frame = max(
                index for index, line in enumerate(lines) if line.startswith(" ")
            )
            message = "\n".join(lines[last_frame + 1 :])
            self.got.append(
                (example, f"Traceback (most recent call last):\n  ...\n{message}\n")
            )
        else:
            self.got.append((example, got))
        super().report_failure(out, test, example, got)

    def report_unexpected_exception(
        self, out: Any, test: doctest.DocTest, example: doctest.Example, exc_info: Any
    ) -> None:
        error = exc_info[1]
        name = type(error).__qualname__
        module = type(error).__module__
        qualified = name if module == "builtins" else f"{module}.{name}"
        self.got.append(
            (
                example,
                f"Traceback (most recent call last):\n  ...\n{qualified}: {error}\n",
            )
        )
        super().report_unexpected_exception(out, test, example, exc_info)


_PYCON = re.compile(r"^(?P<indent> *)\.\. code-block:: pycon\s*$")


def check_pycon(page_name: str, globs: dict[str, Any], *, docs: Path = DOCS) -> int:
    """Run the ``pycon`` blocks of a page as doctests, sharing *globs*.

    When updating, rewrite the output of each failing example with what it
    printed. Returns how many examples ran.

    :raises AssertionError: listing the failures, when not updating.
    """
    __tracebackhide__ = True
    page = docs / page_name
    lines = page.read_text().split("\n")
    parser = doctest.DocTestParser()
    tries = 0
    report: list[str] = []
    edits: list[tuple[int, int, str, int]] = []
    for number, line in enumerate(lines):
        match = _PYCON.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        start, end = _body(lines, number, indent)
        source = textwrap.dedent("\n".join(lines[start:end]))
        # The first line of the body that is not blank: doctest counts from it.
        first = next(index for index in range(start, end) if lines[index].strip())
        test = parser.get_doctest(source.strip("\n"), globs, page_name, None, 0)
        runner = _Runner()
        runner.run(test, out=report.append, clear_globs=False)
        tries += runner.tries
        for example, got in runner.got:
            want_start = first + example.lineno + len(example.source.splitlines())
            want_end = want_start + len(example.want.splitlines())
            edits.append((want_start, want_end, got, indent + 4))
    if edits and updating():
        for want_start, want_end, got, body_indent in sorted(edits, reverse=True):
            prefix = " " * body_indent
            lines[want_start:want_end] = [
                prefix + line if line else "" for line in got.rstrip("\n").split("\n")
            ]
        page.write_text("\n".join(lines))
        return tries
    assert not edits, f"docs/{page_name}: {HOW_TO_UPDATE}\n" + "".join(report)
    return tries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="rewrite the stale samples in docs/"
    )
    options = parser.parse_args(argv)
    environment = dict(os.environ)
    if options.write:
        environment[UPDATE_VARIABLE] = "1"
    command = [sys.executable, "-m", "pytest", *SAMPLE_TESTS, "-p", "no:randomly"]
    return subprocess.run(command, cwd=EXAMPLE, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
