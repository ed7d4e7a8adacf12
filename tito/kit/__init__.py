"""The student kit: the course folder students get (`tito student-kit DEST`).

It holds what a student runs and nothing more: the release (the notebooks, and the reference of
the modules the instructor has published: none by default), the checkpoints, the course's config,
the student guide and the student's side of tito (`tito check`, `tito build`, `tito submit`,
`check_module`), with a pyproject and a Makefile so that `make setup` in the kit installs them.
Never `source/` (so no spec and no hidden case), the full `tinytorch/`, the course secret or
student data. The kit is assembled beside DEST and searched for every module's solution and
hidden-test fingerprints (the leak lint's) before it replaces anything there.
"""

from tito.kit.write import KIT_ENTRIES, write_kit

__all__ = ["KIT_ENTRIES", "write_kit"]
