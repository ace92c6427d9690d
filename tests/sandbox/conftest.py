"""Fixtures shared by the sandbox tests."""

from __future__ import annotations

import pytest

from autograder.sandbox import warm


@pytest.fixture
def own_zygote(monkeypatch):
    """A zygote for this test alone, so that killing it leaves the other tests' sandboxes be."""
    keeper = warm.ZygoteKeeper()
    monkeypatch.setattr(warm, "zygote_keeper", keeper)
    yield keeper
    keeper.shutdown()
