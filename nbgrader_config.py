"""nbgrader's configuration for this course; the course root is this folder.

nbgrader's steps map onto the repository's folders:

| nbgrader step | folder here | what it holds |
| --- | --- | --- |
| source | ``solutions/<assignment>/`` | instructor notebooks with solution markers |
| release | ``assignments/<assignment>/`` | the student notebooks (``autograder release``) |
| submitted | ``submissions/<student>/<assignment>/`` | what students hand in |
| autograded, feedback | ``build/nbgrader/...`` | nbgrader's outputs, not committed |

Run nbgrader from this folder with the virtual environment's ``bin`` on PATH
(nbgrader calls ``alembic``): ``PATH=.venv/bin:$PATH nbgrader autograde conv_layers``.
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submissions"
c.CourseDirectory.autograded_directory = "build/nbgrader/autograded"
c.CourseDirectory.feedback_directory = "build/nbgrader/feedback"
c.CourseDirectory.solution_directory = "build/nbgrader/solution"
c.CourseDirectory.db_url = "sqlite:///build/nbgrader/gradebook.db"

# Assignments enter the gradebook when `autograder release` generates them
# (nbgrader generate_assignment creates them), students when their submission
# is autograded: nothing to list here.
c.GenerateAssignment.create_assignment = True
c.Autograde.create_student = True

# Students who delete a test cell get it back, so every function is graded.
c.OverwriteCells.add_missing_cells = True
# The first test cell of a notebook grades the whole assignment (a few seconds);
# leave room on a slow machine.
c.Execute.timeout = 300
