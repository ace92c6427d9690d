"""nbgrader integration: the kernel-side execution, the gradebook sync, late penalties from
nbgrader's timestamps, and releasing the course's notebooks.
"""
