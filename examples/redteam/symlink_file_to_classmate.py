"""Red team: submit a file that is a symbolic link (and a second one, a hard link) to a classmate's file.

What it tries: the runner puts in `submissions/<attacker>/conv_layers/` a
symlink `mine.py -> ../../classmate/conv_layers/submission.py` next to this
stub, and a hard link `copy.py` to the classmate's file where the file
system allows it.  Files are read in name order like one notebook, so the
classmate's functions win.

Attack worked if: any points (sound grader: ungradable or graded on the stub
only).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=0
# redteam-setup: symlink_file


def zero_pad(x, pad):
    raise NotImplementedError()
