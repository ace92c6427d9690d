"""What runs inside the sandboxed child: the student's interpreter.

Nothing here imports the ``autograder`` package, nor anything but the
standard library and NumPy: the child starts as ``python -I -u
child/main.py ...`` and loads these modules by file path
(`main.load_sibling`), before it installs any restriction; the grader
imports the same files as ``autograder.sandbox.child.*`` for what both sides
share.

* `main`: the child's script: start, configure, run the cells and calls.
* `protocol`: frames, the wire format both sides speak; `codec`: the values
  inside them.
* `restrictions`: what the child may not do, installed before any student
  code runs: the Python layer (import blocker, audit hook) here, the kernel
  layer in `kernel_layer`, the read allow-list in `read_access`.
* `zygote`: the warm interpreter that forks children.
* `simulate`: pretending to be Windows or macOS on Linux, for tests.

This file is empty of code: the child never runs it.
"""
