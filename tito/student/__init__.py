"""The student's tools: `tito check`, `tito build`, `tito checkpoints`, `tito submit`, `tito config`.

They work on the student's own notebooks (by default the release notebooks under `release/`, as
edited by the student) and never read `source/` (the solutions and the specs of cases), the instructor's full `tinytorch/`
or the course secret: what a student runs is what a student has. An earlier module comes from
the published reference (`release/_reference/`, the modules the instructor chose to publish) or
from the student's own finished notebook, so a student can work on module k before finishing
module k-1 once k-1 is published.

`check_module("01_tensor")` runs `tito check` from a cell of the notebook itself.
"""

from tito.student.in_notebook import check_module

__all__ = ["check_module"]
