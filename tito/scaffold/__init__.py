"""`tito new-module NN_name "Title"`: a new module's folder, complete and working as it stands.

Everything a module is lives in `source/NN_name/` (docs/curriculum.md aside, which a test keeps
in step): the source with its narrative, one solution region in a function body, one graded test
and the checkpoint cell; its spec (`cases.py`, the checkpoint's case points adding up to the
cell's); its checkpoint (`checkpoint_NN_name.py`); and its realistic bugs for the synthetic class
(`bugs.py`). The skeleton releases, lints and grades as it stands; the author replaces `double`
with the module's real content (source/AUTHORING.md walks through it).

The templates are in `templates/`; the bug file is written by `tito.synth.render`, the one writer
of that layout. The derived lists in it are what the skeleton fails, as `python -m tito.synth
--derive --module NN_name` confirms (and `--write` rewrites once the author changes the source).
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from tito import course
from tito.errors import TitoError
from tito.synth.bugs import Bug, Stubs
from tito.synth.render import render_bugs_file

TEMPLATES = Path(__file__).resolve().parent / "templates"
QUESTION = "Can I use {title} in a network?"  # the default; --question sets it


def new_module(root: Path, name: str, title: str, question: str | None = None) -> list[Path]:
    """Write `source/<name>/` (the source, cases.py, the checkpoint, bugs.py); returns the files.

    Refuses a malformed name, a number or export target already used, and an existing folder."""
    match = course.MODULE_DIR.match(name)
    if not match:
        raise TitoError(f"{name!r}: a module is named NN_name (two digits, then lower-case letters, digits "
                        "and underscores), e.g. 08_spatial")
    if not title.strip():
        raise TitoError("the title is empty: give the module a title, e.g. \"Spatial\"")
    folder = root / course.SOURCE / name
    if folder.exists():
        raise TitoError(f"{course.relpath(root, folder)}: already exists")
    short = match["title"]
    for module in course.discover(root):
        if module.number == int(match["number"]):
            raise TitoError(f"number {module.number:02d} is already {module.name}'s")
        if f"{course.PACKAGE}.core.{short}" in module.export_modules:
            raise TitoError(f"{module.name} already exports to tinytorch.core.{short}: choose another name")
    values = {"name": name, "number": match["number"], "short": short, "title": title.strip(),
              "question": (question or QUESTION.format(title=title.strip())).replace('"', "'")}
    files = {
        f"{name}.py": _fill("module.py.tmpl", values),
        "cases.py": _fill("cases.py.tmpl", values),
        f"checkpoint_{name}.py": _fill("checkpoint.py.tmpl", values),
        "bugs.py": render_bugs_file(name, [_first_bug(short)], _stub_profiles(short)),
    }
    folder.mkdir(parents=True)
    for file, text in files.items():
        (folder / file).write_text(text, encoding="utf-8")
    return [folder / file for file in files]


def _fill(template: str, values: dict[str, str]) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


# What the skeleton's bug and stub profiles fail, cell by cell and case by case (the skeleton is
# fixed, so these are known; `--derive` confirms them).
def _cells(short: str) -> tuple[str, ...]:
    return f"{short}-double-test", f"{short}-checkpoint"


def _cases() -> tuple[str, ...]:
    return "double_values", "double_any_shape", "checkpoint_double", "checkpoint_double_numbers"


def _first_bug(short: str) -> Bug:
    return Bug(f"{short}-double-adds", f"{short}-double", "double", "adds the input to 1 instead of to itself",
               (("    return 2 * np.asarray(x, dtype=np.float32)", "    return 1 + np.asarray(x, dtype=np.float32)"),),
               failing_cells=_cells(short), failing_checks=_cases())


def _stub_profiles(short: str) -> dict[str, Stubs]:
    """`none` (the release) fails everything; `first-half` of one region writes it: fails nothing."""
    return {"none": Stubs(_cells(short), _cases()), "first-half": Stubs((), ())}
