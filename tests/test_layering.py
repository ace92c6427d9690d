"""The package's layers, enforced: which subpackage may import which.

    reference             the NumPy engine; imports nothing of autograder
    autograder.sandbox    runs student code; imports nothing of autograder outside itself
    autograder.engine     grades one submission (sandbox, rubrics, reference)
    autograder.rubrics    the course content: rubrics, strategies, students' hints (engine)
    autograder.classroom  a class: batch, gradebook, lateness (engine, rubrics, outputs)
    autograder.outputs    feedback, exports, report, Gradescope (engine, rubrics, classroom)
    autograder.nbgrader   nbgrader integration (all of the above)
    autograder.cli        the commands (everything)

Every import counts, including the ones inside functions and the relative ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Layer -> the layers it must never import.
FORBIDDEN = {
    "reference": {"autograder"},
    "autograder.sandbox": {"autograder"},  # apart from itself (see `_allowed`)
    "autograder.engine": {"autograder.classroom", "autograder.outputs", "autograder.nbgrader", "autograder.cli",
                          "autograder.notebook"},
    "autograder.rubrics": {"autograder.classroom", "autograder.outputs", "autograder.nbgrader", "autograder.cli",
                           "autograder.notebook"},
    "autograder.classroom": {"autograder.nbgrader", "autograder.cli", "autograder.notebook"},
    "autograder.outputs": {"autograder.nbgrader", "autograder.cli", "autograder.notebook"},
    "autograder.nbgrader": {"autograder.cli"},
}


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    return _imports_in(path.read_text(encoding="utf-8"), *_module_name(path))


def _imports_in(source: str, name: str, is_package: bool) -> list[tuple[int, str]]:
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _layer(module: str) -> str | None:
    for layer in sorted(FORBIDDEN, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _allowed(layer: str, imported: str) -> bool:
    if _within(imported, layer):
        return True
    return not any(_within(imported, banned) for banned in FORBIDDEN[layer])


def _violations() -> list[str]:
    problems = []
    for folder in ("autograder", "reference"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module, _ = _module_name(path)
            layer = _layer(module)
            if layer is None:
                continue
            for line, imported in _imports(path):
                if not _allowed(layer, imported):
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports {imported}")
    return problems


def test_every_module_keeps_to_its_layer():
    assert _violations() == []


def test_every_module_of_autograder_belongs_to_a_layer():
    loose = [str(p.relative_to(ROOT)) for p in (ROOT / "autograder").glob("*.py")
             if p.stem not in ("__init__", "notebook")]
    assert loose == [], "a module outside the layers: put it in engine, rubrics, classroom, outputs, nbgrader or cli"


@pytest.mark.parametrize("layer, imported, allowed", [
    ("autograder.sandbox", "autograder.sandbox.protocol", True),
    ("autograder.sandbox", "autograder.engine.submission", False),
    ("autograder.sandbox", "autograder", False),
    ("autograder.engine", "autograder.sandbox", True),
    ("autograder.engine", "autograder.classroom.batch", False),
    ("autograder.engine", "autograder.notebook", False),
    ("autograder.outputs", "autograder.engine.results", True),
    ("autograder.nbgrader", "autograder.cli.console", False),
])
def test_the_rule_itself(layer, imported, allowed):
    assert _allowed(layer, imported) is allowed


def test_a_violation_is_found():
    """The checker reads relative imports inside functions too (a checker that finds nothing proves nothing)."""
    source = "import os\n\ndef f():\n    from ..engine import submission\n"
    found = _imports_in(source, "autograder.sandbox.probe", False)
    assert found == [(1, "os"), (4, "autograder.engine"), (4, "autograder.engine.submission")]
    assert [imported for _, imported in found if not _allowed("autograder.sandbox", imported)] == [
        "autograder.engine", "autograder.engine.submission"]


def test_the_package_size_limit():
    """No module of autograder/ or reference/ is over 700 lines: a longer one has more than one job."""
    long = {str(p.relative_to(ROOT)): n for folder in ("autograder", "reference") for p in (ROOT / folder).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert long == {}
