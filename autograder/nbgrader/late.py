"""The ``subtract`` late penalty as an nbgrader plugin, so ``nbgrader autograde`` applies what ``autograder grade`` does.

In the course's ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "autograder.nbgrader.late.SubtractLatePenalty"
    c.SubtractLatePenalty.points_per_unit = 2
    c.SubtractLatePenalty.penalty_unit = "day"

``autograder grade --nbgrader`` reads the same configuration
(:func:`autograder.nbgrader.sync.course_late_policy`) and instantiates the
same plugin, so both ways of grading take the same points.
"""

from __future__ import annotations

from nbgrader.plugins import BasePlugin
from traitlets import Enum, Float

from ..classroom.lateness import UNIT_SECONDS, LatePolicy

__all__ = ["SubtractLatePenalty"]


class SubtractLatePenalty(BasePlugin):
    """``points_per_unit`` points for every started ``penalty_unit`` late (nbgrader keeps it within the score)."""

    points_per_unit = Float(1.0, help="Points taken for every started unit late.").tag(config=True)
    penalty_unit = Enum(tuple(UNIT_SECONDS), default_value="hour", help="minute, hour, day or week.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        return self.policy().late_submission_penalty(student_id, score, total_seconds_late)

    def policy(self) -> LatePolicy:
        return LatePolicy("subtract", self.points_per_unit, self.penalty_unit)
