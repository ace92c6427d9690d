"""Build the bundled example class in nbgrader's layout: ``DEST/submissions/<student>/<assignment>/``.

For each assignment (``conv_layers``, ``conv_extras``, ``fast_conv``), every
file of ``examples/<assignment>/`` becomes one student's submission, the
student named after the file (a few as notebooks, one cell per function,
shuffled); plus the submissions a real class always has: an unreadable
notebook, an empty folder, and a file linking out of the folder.

Run: ``python examples/make_class.py DEST`` (``./dev run`` does it, then grades DEST).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSIGNMENTS = ("conv_layers", "conv_extras", "fast_conv")
ASSIGNMENT = ASSIGNMENTS[0]  # the one the broken submissions are for
AS_NOTEBOOK = {"correct", "buggy_nhwc", "buggy_dout_unused"}


def notebook_from_python(source: str, seed: int) -> str:
    """A notebook with one code cell per top-level block of ``source``, in a shuffled order."""
    header, *functions = source.split("\ndef ")
    cells = [header] + ["def " + f for f in functions]
    random.Random(seed).shuffle(cells)  # cell order must not matter to the grader
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Convolutional layers"}]
        + [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c.strip() + "\n"} for c in cells],
    }
    return json.dumps(notebook, indent=1)


def build(dest: Path) -> Path:
    """Write the example class under ``dest``; returns the submissions folder."""
    submissions = dest / "submissions"
    if submissions.exists():
        shutil.rmtree(submissions)
    for assignment in ASSIGNMENTS:
        for index, path in enumerate(sorted((HERE / assignment).glob("*.py"))):
            if path.name == "mutants.py":
                continue
            folder = submissions / path.stem / assignment
            folder.mkdir(parents=True)
            if path.stem in AS_NOTEBOOK:
                (folder / f"{assignment}.ipynb").write_text(notebook_from_python(path.read_text(), seed=index))
            else:
                shutil.copy(path, folder / f"{assignment}.py")
    broken = submissions / "unreadable_notebook" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_bytes(b'{"cells": [ \xff\xfe truncated')
    (submissions / "empty_folder" / ASSIGNMENT).mkdir(parents=True)
    linked = submissions / "symlink_out" / ASSIGNMENT
    linked.mkdir(parents=True)
    (linked / f"{ASSIGNMENT}.py").symlink_to("/etc/hostname")
    return submissions


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/make_class.py DEST")
    print(build(Path(sys.argv[1])))
