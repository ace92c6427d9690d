"""The sandbox stands alone: it imports nothing of ``autograder`` outside ``autograder.sandbox``.

And its child side (the ``child`` folder) loads by file path in a bare
interpreter, without the ``autograder`` package, as the child does.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[2] / "autograder" / "sandbox"
MODULES = sorted(SANDBOX.rglob("*.py"))
CHILD_MODULES = sorted(path.stem for path in (SANDBOX / "child").glob("*.py") if path.stem != "__init__")


def package_of(path: Path) -> list[str]:
    """``["autograder", "sandbox", "child"]`` for ``autograder/sandbox/child/main.py``."""
    parts = list(path.relative_to(SANDBOX.parents[1]).with_suffix("").parts)
    return parts if path.name == "__init__.py" else parts[:-1]


def imported_modules(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Every module *path* (or *source*, placed at *path*) imports, relative imports resolved, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source, filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = package_of(path)
                base = ".".join(package[:len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # ``from . import x`` imports the module x; ``from .x import y`` the module x (y may be a name).
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names] if not node.module \
                else [(node.lineno, module)]
    return found


def outside_the_sandbox(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "autograder" and parts[:2] != ["autograder", "sandbox"]


@pytest.mark.parametrize("path", MODULES, ids=[str(path.relative_to(SANDBOX)) for path in MODULES])
def test_a_sandbox_module_imports_nothing_of_autograder_outside_the_sandbox(path):
    wrong = [f"line {line}: {module}" for line, module in imported_modules(path) if outside_the_sandbox(module)]
    assert not wrong, f"autograder/sandbox/{path.relative_to(SANDBOX)} imports from outside the sandbox: {wrong}"


def test_the_check_sees_relative_imports_that_leave_the_sandbox():
    source = "from ...submission import Cell\nfrom ... import policy\nfrom . import protocol\nfrom ..cells import Cell\n"
    found = imported_modules(SANDBOX / "child" / "probe.py", source)  # not written: its place decides the package
    assert [name for _, name in found] == ["autograder.submission", "autograder.policy",
                                           "autograder.sandbox.child.protocol", "autograder.sandbox.cells"]
    assert [outside_the_sandbox(name) for _, name in found] == [True, True, False, False]


@pytest.mark.parametrize("path", sorted((SANDBOX / "child").glob("*.py")),
                         ids=lambda path: path.name)
def test_a_child_module_imports_only_the_standard_library_numpy_and_its_folder(path):
    allowed_top = set(sys.stdlib_module_names) | {"numpy"}
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        in_folder = module.startswith("autograder.sandbox.child") or top.startswith("_sandbox_")
        assert in_folder or top in allowed_top, f"child/{path.name}, line {line}: imports {module}"


def test_every_child_module_loads_by_path_without_the_autograder_package():
    main = SANDBOX / "child" / "main.py"
    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("child_main", {str(main)!r})
        main = importlib.util.module_from_spec(spec); spec.loader.exec_module(main)
        for name in {CHILD_MODULES!r}:
            if name != "main":
                main.load_sibling(name)
        print(sorted(name for name in sys.modules if name.startswith("_sandbox_")))
        print(any(name.split(".")[0] == "autograder" for name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded, autograder_imported = result.stdout.splitlines()
    assert loaded == str(sorted(f"_sandbox_{name}" for name in CHILD_MODULES if name != "main"))
    assert autograder_imported == "False"
