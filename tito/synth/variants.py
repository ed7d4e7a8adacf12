"""One module's submission notebook for a variant: correct, a catalogued bug, or a stub profile."""

from __future__ import annotations

import nbformat

from tito.course import Module
from tito.errors import TitoError
from tito.synth.bugs import STUB_PROFILES, read
from tito.synth.notebook import Region, fill, release_notebook, solution_regions


def left_as_stubs(regions: list[Region], profile: str) -> set[tuple[str, int]]:
    """The regions a student with this stub profile did not write."""
    if profile == "none":
        kept: list[Region] = regions
    elif profile == "first-half":
        kept = regions[(len(regions) + 1) // 2:]
    else:
        raise TitoError(f"unknown stub profile {profile!r} (known: {', '.join(STUB_PROFILES)})")
    return {(r.cell, r.index) for r in kept}


def submission(module: Module, *, bug: str | None = None, profile: str | None = None) -> nbformat.NotebookNode:
    """The release notebook of `module` filled in: correctly, with `bug`, or up to `profile`."""
    regions = solution_regions(module)
    edits: dict[str, list[tuple[str, str]]] = {}
    if bug is not None:
        entry = read(module).bug(bug)
        if entry is None:
            raise TitoError(f"no bug {bug!r} in {module.rel(module.bugs_py)}")
        edits[entry.cell] = list(entry.edits)
    leave = left_as_stubs(regions, profile) if profile is not None else set()
    where = f"{module.rel(module.release_ipynb)}" + (f" (bug {bug})" if bug else "")
    return fill(release_notebook(module), regions, leave=leave, edits=edits, where=where)
