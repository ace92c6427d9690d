"""Red team: submit a folder that is a symbolic link to a classmate's folder, and be graded on their work.

What it tries: this file is what the student "wrote" (the stub: nothing
implemented), but the runner submits `submissions/<attacker>/conv_layers` as
a symlink to `../classmate/conv_layers` (a link inside the submissions
folder, which a check "does it resolve inside the submissions folder" lets
through).  The classmate's submission is correct.

Attack worked if: any points (sound grader: ungradable, a folder that leads
out of its own student folder).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=0
# redteam-setup: symlink_folder


def zero_pad(x, pad):
    raise NotImplementedError()
