"""Write a module's `bugs.py`: the one writer of that file's layout, used by
`python -m tito.synth --derive --write` (the derived lists) and `tito new-module` (a first bug).

The file is Python a human edits (names, descriptions, edits) and the derivation rewrites (the
`failing_*` lists), so it is written whole, in one stable layout, keeping the author's docstring.
"""

from __future__ import annotations

from tito.synth.bugs import STUB_PROFILES, Bug, Stubs

DOCSTRING = '''Realistic bugs of {module} for the synthetic class, and what each stub profile fails.

Each bug is one function's solution with a small edit (`edits`: (old, new) pairs applied to the
filled cell `cell`). `failing_cells` and `failing_checks` are derived, never typed: after changing
the module's source or its cases, run `python -m tito.synth --derive --write --module {module}`,
which rewrites this file (notes belong in a bug's description). See source/AUTHORING.md.
'''


def render_bugs_file(module: str, bugs: list[Bug], stubs: dict[str, Stubs], docstring: str | None = None) -> str:
    """The text of `source/<module>/bugs.py` holding `bugs` and `stubs` (profiles in STUB_PROFILES order)."""
    doc = (docstring or DOCSTRING.format(module=module)).strip("\n")
    lines = [f'"""{doc}\n"""', "", "from tito.synth.bugs import Bug, Stubs", "", "BUGS = ("]
    for bug in bugs:
        lines += ["    Bug(",
                  f"        {bug.name!r}, {bug.cell!r}, {bug.function!r},",
                  f"        {bug.description!r},",
                  "        (",
                  *(f"            ({old!r}, {new!r})," for old, new in bug.edits),
                  "        ),",
                  _names("failing_cells", bug.failing_cells, "        "),
                  _names("failing_checks", bug.failing_checks, "        "),
                  "    ),"]
    lines += [")", "", "STUBS = {"]
    for profile in (p for p in STUB_PROFILES if p in stubs):
        lines += [f"    {profile!r}: Stubs(",
                  _names("failing_cells", stubs[profile].failing_cells, "        "),
                  _names("failing_checks", stubs[profile].failing_checks, "        "),
                  "    ),"]
    lines += ["}", ""]
    return "\n".join(lines)


def _names(field: str, names: tuple[str, ...] | None, indent: str) -> str:
    if names is None:
        return f"{indent}{field}=None,"
    return "\n".join([f"{indent}{field}=(", *(f"{indent}    {name!r}," for name in names), f"{indent}),"])
