"""The store of drawn cases and expected values: same verdicts cold, warm and corrupt; never trusted blindly.

"A new process" is simulated by forgetting what this one drew and computed
(the search's drawn cases, the shared expected values, the store's state).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from autograder import rubrics
from autograder.engine import cache, expected, grading, search, store
from autograder.engine.grading import grade

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"
SUBMISSIONS = ("correct.py", "buggy_bias_forgotten.py", "buggy_backward_crashes_without_pad.py")
CASES = 12  # per check: enough to fail the buggy ones, quick to draw


def _new_process(monkeypatch) -> None:
    monkeypatch.setattr(search, "_DRAWN", {})
    monkeypatch.setattr(expected, "_SHARED", {})
    monkeypatch.setattr(store, "_STATE", {})


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    cache.cache_dir.cache_clear()
    _new_process(monkeypatch)
    yield tmp_path / "cache"
    cache.cache_dir.cache_clear()


def _verdicts() -> dict[str, dict]:
    results = {}
    for name in SUBMISSIONS:
        result = grade(EXAMPLES / name, examples=CASES).to_dict()
        result.pop("seconds")
        results[name] = json.loads(json.dumps(result))
    return results


def _store_file(folder: Path) -> Path:
    [path] = (folder / store.STORE_FOLDER).glob("conv_layers-*.bin")
    return path


def test_verdicts_are_the_same_cold_warm_and_with_a_corrupt_store(cache_folder, monkeypatch):
    cold = _verdicts()
    path = _store_file(cache_folder)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # graded cases follow from the course secret
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    _new_process(monkeypatch)
    computed = []
    monkeypatch.setattr(expected.ExpectedValues, "_compute", lambda self, op, *a, **k: computed.append(op))
    drawn = []
    monkeypatch.setattr(search._Search, "run", lambda self, targets, examples, collect=None: drawn.append(collect))
    spec = rubrics.get("conv_layers")
    assert store.load(spec, CASES, expected.expected_values())  # everything comes from the store
    grade(EXAMPLES / "correct.py", examples=CASES)
    assert computed == [] and drawn == []
    monkeypatch.undo()
    monkeypatch.setenv(cache.CACHE_ENV, str(cache_folder))

    _new_process(monkeypatch)
    assert _verdicts() == cold

    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # one byte of an array
    path.write_bytes(bytes(data))
    _new_process(monkeypatch)
    assert not store.load(spec, CASES, expected.expected_values())
    _new_process(monkeypatch)
    assert _verdicts() == cold
    _new_process(monkeypatch)
    assert store.load(spec, CASES, expected.expected_values())  # written again, valid


def test_a_foreign_or_truncated_file_is_ignored(cache_folder, monkeypatch):
    spec = rubrics.get("conv_layers")
    grade(EXAMPLES / "correct.py", examples=CASES)
    path = _store_file(cache_folder)
    other = store.store_path(spec, CASES + 1, expected.expected_values().engine)
    other.write_bytes(path.read_bytes())  # valid content, under another key's name
    _new_process(monkeypatch)
    assert not store.load(spec, CASES + 1, expected.expected_values())
    path.write_bytes(path.read_bytes()[:1000])
    assert not store.load(spec, CASES, expected.expected_values())


def test_a_case_read_back_with_other_content_is_refused(cache_folder, monkeypatch):
    spec = rubrics.get("conv_layers")
    grade(EXAMPLES / "correct.py", examples=CASES)
    _new_process(monkeypatch)
    real = store._Reader.decode

    def altered(self, item):
        value = real(self, item)
        return value + 1 if isinstance(value, int) and not isinstance(value, bool) and value > 1 else value

    monkeypatch.setattr(store._Reader, "decode", altered)
    assert not store.load(spec, CASES, expected.expected_values())


def test_the_sandboxed_child_is_forbidden_the_cache_and_its_store(cache_folder, monkeypatch):
    seen = []

    class Spy(grading.Sandbox):
        def __init__(self, *args, forbidden_paths=None, **kwargs):
            seen.append(tuple(forbidden_paths))
            super().__init__(*args, forbidden_paths=forbidden_paths, **kwargs)

    monkeypatch.setattr(grading, "Sandbox", Spy)
    grade(EXAMPLES / "correct.py", examples=CASES)
    assert seen and cache.cache_dir() in seen[0] and store.store_folder().is_relative_to(cache.cache_dir())


@pytest.mark.parametrize("value", [
    (np.arange(6, dtype=np.int64).reshape(2, 3), 3.5, float("nan")),
    {"stride": 2, "pad": (1, 0)},
    [np.float32(1.25), np.zeros((0, 2)), None, True, "x"],
    ValueError("the filter doesn't fit", 3),
], ids=["arrays and floats", "dict of tuples", "numpy scalars and empties", "an error"])
def test_values_come_back_with_their_types(value):
    back, _ = store._decode_roundtrip(value)
    assert type(back) is type(value)
    assert repr(back) == repr(value) or isinstance(value, tuple)
    if isinstance(value, tuple):
        np.testing.assert_array_equal(back[0], value[0])
        assert back[0].dtype == value[0].dtype and not back[0].flags.writeable
        assert back[1] == 3.5 and np.isnan(back[2])


def test_objects_outside_the_format_are_not_stored():
    with pytest.raises(store._Unstorable):
        store._decode_roundtrip(np.array([object()]))
    with pytest.raises(store._Unstorable):
        store._decode_roundtrip(complex(1, 2))


def test_a_file_others_could_write_is_not_read(cache_folder, monkeypatch):
    """The digest catches corruption, not a forged file: in a shared folder another user's file is ignored."""
    spec = rubrics.get("conv_layers")
    grade(EXAMPLES / "correct.py", examples=CASES)
    path = _store_file(cache_folder)
    _new_process(monkeypatch)
    path.chmod(0o622)
    assert not store.load(spec, CASES, expected.expected_values())
    path.chmod(0o600)
    path.parent.chmod(0o777)
    with pytest.raises(PermissionError):
        store.store_folder()
    result = grade(EXAMPLES / "correct.py", examples=CASES)  # graded as without a store
    assert result.status == "graded" and result.points == result.max_points


def test_files_not_written_for_a_month_are_removed_at_the_next_write(cache_folder):
    import os
    import time

    grade(EXAMPLES / "correct.py", examples=CASES)
    stale = _store_file(cache_folder).with_name("conv_layers-old.bin")
    stale.write_bytes(b"old")
    month_ago = time.time() - 31 * 86400
    os.utime(stale, (month_ago, month_ago))
    store.save(rubrics.get("conv_layers"), CASES, expected.expected_values())
    assert not stale.exists() and _store_file(cache_folder).exists()
