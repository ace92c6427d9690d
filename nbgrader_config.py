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

``nbgrader autograde`` never runs a submitted notebook in a Jupyter kernel
here: its execute step is ``autograder.nbgrader.execute.SandboxedExecute``,
which grades the notebook's code in the grader's sandbox and writes each test
cell's points as its output (see that module and the README's nbgrader
section). ``autograder release`` refuses a configuration without it.
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
# Grade in the sandbox, never in a kernel: nbgrader 0.9.6's autograde steps with
# its Execute replaced by ours (autograder.nbgrader.execute.AUTOGRADE_PREPROCESSORS;
# a test holds the two lists together). Dotted names, imported when autograde
# runs: should autograder not be importable, every submission fails loudly
# instead of being run in a kernel.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader.execute.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
