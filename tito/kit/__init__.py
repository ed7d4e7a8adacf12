"""The student kit: the course folder students get (`tito student-kit DEST`).

It holds what a student runs and nothing more: the release (notebooks and the published
reference), the checkpoints, the course's config, the student guide and the student's side of
tito (`tito check`, `tito build`, `tito submit`, `check_module`), with a pyproject and a Makefile
so that `make setup` in the kit installs them. Never `source/`, the full `tinytorch/` or student
data. The kit is assembled beside DEST and searched for every module's solution and hidden-test
fingerprints (the leak lint's) before it replaces anything there.
"""

from tito.kit.write import KIT_ENTRIES, write_kit

__all__ = ["KIT_ENTRIES", "write_kit"]
