"""The students' package, built once per test session by ``packaging/build_student.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from student_package import load_builder


@pytest.fixture(scope="session")
def builder():
    return load_builder()


@pytest.fixture(scope="session")
def student_dist(builder, tmp_path_factory) -> dict[str, Path]:
    """``{"wheel": ..., "sdist": ...}``: the students' package built from this checkout."""
    built = builder.build(tmp_path_factory.mktemp("student-dist"))
    return {"wheel": next(p for p in built if p.suffix == ".whl"), "sdist": next(p for p in built if p.name.endswith(".tar.gz"))}
