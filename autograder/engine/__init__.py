"""The grading engine: a submission, its rubric, the drawn cases and expected values, the calls
into the sandbox, the verdicts and the results. It never imports the classroom, outputs,
nbgrader or CLI layers (tests/test_layering.py).
"""
