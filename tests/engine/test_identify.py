"""Which assignment a file is for: metadata, then file name, then the functions it defines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder.engine.identify import IdentifyError, identify_assignment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _notebook(path: Path, sources: list[str], metadata: dict | None = None) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None} for source in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.mark.parametrize("assignment", ["conv_layers", "conv_extras", "fast_conv"])
def test_functions_tell_each_assignment_apart(tmp_path, assignment):
    copy = shutil.copy(EXAMPLES / assignment / "correct.py", tmp_path / "my_homework.py")
    found = identify_assignment(copy)
    assert (found.name, found.how) == (assignment, "functions")
    assert found.describe().startswith(f"{assignment} (from the functions it defines: ")


@pytest.mark.parametrize("name, expected", [
    ("fast_conv.ipynb", "fast_conv"), ("fast_conv (1).ipynb", "fast_conv"),
    ("conv_extras-Copy2.ipynb", "conv_extras"), ("CONV_LAYERS.py", "conv_layers"),
])
def test_the_file_name_is_trusted_before_the_functions(tmp_path, name, expected):
    # The functions say conv_layers; the name says otherwise and wins (a notebook still mostly unwritten).
    path = tmp_path / name
    source = (EXAMPLES / "conv_layers" / "correct.py").read_text()
    _notebook(path, [source]) if name.endswith(".ipynb") else path.write_text(source)
    assert identify_assignment(path).name == expected
    assert identify_assignment(path).how == "file name"


def test_release_metadata_is_trusted_first(tmp_path):
    path = _notebook(tmp_path / "conv_layers.ipynb", ["def zero_pad(x, pad):\n    pass\n"],
                     {"autograder": {"assignment": "fast_conv"}})
    found = identify_assignment(path)
    assert (found.name, found.how) == ("fast_conv", "metadata")
    assert found.describe() == "fast_conv (from the notebook's metadata)"


def test_unknown_metadata_falls_back(tmp_path):
    path = _notebook(tmp_path / "work.ipynb", ["%matplotlib inline\ndef conv_forward_im2col(x, w, b, conv_param):\n    pass\n"],
                     {"autograder": {"assignment": "a_course_we_dont_know"}})
    # A magic line does not stop the functions from being read; conv_forward_im2col is fast_conv's.
    found = identify_assignment(path)
    assert (found.name, found.how) == ("fast_conv", "functions")


def test_the_flag_overrides_and_an_unknown_name_is_refused(tmp_path):
    path = shutil.copy(EXAMPLES / "conv_extras" / "correct.py", tmp_path / "conv_extras.py")
    assert identify_assignment(path, "conv_layers").name == "conv_layers"
    with pytest.raises(IdentifyError, match="Did you mean 'conv_layers'"):
        identify_assignment(path, "conv_layer")


def test_nothing_to_tell_by_says_what_to_pass(tmp_path):
    empty = tmp_path / "scratch.py"
    empty.write_text("x = 1\n")
    with pytest.raises(IdentifyError, match="defines none of their functions.*--assignment"):
        identify_assignment(empty)
    broken = tmp_path / "scratch2.py"
    broken.write_text("def (:\n")
    with pytest.raises(IdentifyError):
        identify_assignment(broken)
