"""docs/architecture.rst is the map of signalkit's layers; the code follows it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "signalkit"
PAGE = ROOT / "docs" / "architecture.rst"

pytestmark = pytest.mark.skipif(
    not PAGE.exists() or not (PACKAGE / "__init__.py").exists(),
    reason="needs the source tree (tox tests the installed wheel)",
)

# Calls that import a module named by a string constant.
_DYNAMIC_IMPORTS = {"import_module", "import_string"}


def layers() -> dict[str, int]:
    """Module -> layer number, as the page lists them."""
    found: dict[str, int] = {}
    layer = 0
    for line in PAGE.read_text().splitlines():
        heading = re.fullmatch(r"Layer (\d+): .+", line)
        if heading:
            layer = int(heading.group(1))
            continue
        term = re.fullmatch(r"``(signalkit(?:\.\w+)*)``", line)
        if term and layer:
            found[term.group(1)] = layer
    return found


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _outside_type_checking(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (
                each for child in node.orelse for each in _outside_type_checking(child)
            )
            continue
        yield node
        yield from _outside_type_checking(node)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The signalkit modules that module *name* imports, anywhere in it."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _outside_type_checking(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in _DYNAMIC_IMPORTS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets = [node.args[0].value]
        for target in targets:
            # "signalkit.tasks.run_receiver" imports the module signalkit.tasks.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    every = modules()
    return {name: imports_of(name, path, set(every)) for name, path in every.items()}


def test_every_module_is_on_a_layer() -> None:
    missing = sorted(set(modules()) - set(layers()))
    assert missing == [], f"add these to {PAGE.name}: {missing}"


def test_every_listed_module_exists() -> None:
    gone = sorted(set(layers()) - set(modules()))
    assert gone == [], f"remove these from {PAGE.name}: {gone}"


def test_imports_only_point_down() -> None:
    layer = layers()
    upward = [
        f"{name} (layer {layer[name]}) imports {target} (layer {layer[target]})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer.get(target, 0) > layer.get(name, 0)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycles.append([*path[path.index(name) :], name])
            return
        if name in done:
            return
        for target in sorted(edges.get(name, ())):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
    assert cycles == []


def test_the_checker_sees_imports_inside_functions_and_dynamic_ones(
    tmp_path: Path,
) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from signalkit import registry\n"
        "if TYPE_CHECKING:\n"
        "    from signalkit.recording import Recorder\n"
        "def later():\n"
        "    from signalkit.conf import conf\n"
        "    import_string('signalkit.naming.callable_name')\n"
    )
    known = {"signalkit", "signalkit.registry", "signalkit.conf", "signalkit.naming"}
    known |= {"signalkit.recording"}

    assert imports_of("signalkit.sample", module, known) == {
        "signalkit.registry",
        "signalkit.conf",
        "signalkit.naming",
    }
