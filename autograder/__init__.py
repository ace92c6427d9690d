"""Grading tools for convolutional-layer exercises.

``autograder.grade(path, assignment="conv_layers")`` grades one submission
(a ``.py`` file or a notebook) in a sandbox and returns a typed result. The
torch oracle (:mod:`autograder.engine.oracle`), the Hypothesis strategies
(:mod:`autograder.rubrics.strategies`) and the rubrics (:mod:`autograder.rubrics`)
are importable on their own.
"""

from __future__ import annotations

__all__ = ["__version__", "grade"]

#: The package's version, in one place: pyproject.toml and the students' package read it here,
#: and the grader's fingerprint (:mod:`autograder.engine.fingerprint`) records it, whatever name the
#: distribution is installed under.
__version__ = "0.3.1"


def grade(path, **options):
    """Grade one submission; see :func:`autograder.engine.grading.grade` for the options."""
    from .engine.grading import grade as _grade

    return _grade(path, **options)
