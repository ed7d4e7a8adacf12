"""The published reference: the reference code of the modules the instructor chose to publish.

A student who has not finished an earlier module can still work on a later one against the
earlier module's reference, once the instructor publishes it (typically after its deadline).
The choice lives in nbgrader_config.py, where every other course setting is, as a traitlets
entry that stock nbgrader ignores and tito reads through the same loader:

    c.PublishedReference.modules = ["01_tensor", "02_activations"]

The default is none: publishing a reference hands that solution to every student and cannot be
taken back, so it must be a deliberate act, never the effect of a missing line.

`tito release` writes the published modules into `release/_reference/tinytorch/` (their export
targets plus the package `__init__`s, which import nothing) and nothing else. The lint's leak
rule proves no unpublished module's solution is anywhere under release/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from traitlets import List, TraitError, Unicode
from traitlets.config import Configurable

from tito.build import export
from tito.build.partial import partial_reference
from tito.course import CONFIG_FILE, Module, published_root
from tito.errors import TitoError
from tito.release.generate import load_config


class PublishedReference(Configurable):
    """`c.PublishedReference.modules` in nbgrader_config.py."""

    modules = List(
        Unicode(), default_value=[],
        help="Modules (e.g. '01_tensor') whose reference code ships in release/_reference/, so "
             "students can work on later modules before finishing these. Default: none.",
    ).tag(config=True)


def published_modules(root: Path, modules: list[Module]) -> list[Module]:
    """The course modules the config publishes, in course order; a name that is no module is an
    error (a typo must not quietly keep a reference unpublished, nor publish the wrong one)."""
    try:
        names = PublishedReference(config=load_config(root)).modules
    except TraitError as error:
        raise TitoError(f"{CONFIG_FILE}: c.PublishedReference.modules must be a list of module names: "
                        f"{error}") from None
    known = {m.name for m in modules}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise TitoError(f"{CONFIG_FILE}: c.PublishedReference.modules names {', '.join(map(repr, unknown))}, "
                        f"not a module of this course (known: {', '.join(sorted(known))})")
    return [m for m in modules if m.name in names]


def write_published(root: Path, modules: list[Module]) -> list[Module]:
    """Rewrite `release/_reference/` to hold exactly the published modules (nothing when none
    is published) and return them. Their code is copied from `tinytorch/`, which must be fresh."""
    published = published_modules(root, modules)
    stale = export.check(published)
    if stale:
        raise TitoError("the published reference is copied from tinytorch/, which is stale ("
                        + "; ".join(export.describe(r) for r in stale) + "): run `tito export` first")
    dest = published_root(root)
    if dest.exists():
        shutil.rmtree(dest)
    if published:
        partial_reference(root, dest, published)
    return published
