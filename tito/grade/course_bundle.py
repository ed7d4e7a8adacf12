"""The course's grading inputs as one tarball, for workers that cannot see the course directory.

A remote worker grades with what the supervisor sends it: this bundle holds every file that
`tito.grade.course_build` digests (nbgrader_config.py, the release notebooks, the specs, the
reference package, the published reference), plus what finding the modules needs (each
`source/NN_name/NN_name.py`, which names its export target). The inner scripts are not in it:
they come with the worker's installed tito, and the build id covers them, so a worker running a
different tito refuses tasks instead of grading differently. Nothing else of the course travels:
no submissions, no gradebook, no course secret.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from tito.course import CONFIG_FILE, PACKAGE, Module, published_root


def bundle_files(root: Path, modules: list[Module]) -> list[Path]:
    """The files of the bundle, relative to the course root, in a stable order."""
    root = root.resolve()
    files = [root / CONFIG_FILE]
    for module in modules:
        files += [module.source_py, module.cases_py, module.release_ipynb]
    for package in (root / PACKAGE, published_root(root) / PACKAGE):
        files += sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return [f.relative_to(root) for f in files if f.is_file()]


def pack(root: Path, modules: list[Module]) -> bytes:
    """The bundle (a gzipped tarball) of the course at `root`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for relative in bundle_files(root, modules):
            tar.add(root / relative, arcname=relative.as_posix(), recursive=False)
    return buffer.getvalue()


def unpack(bundle: bytes, dest: Path) -> Path:
    """Unpack a bundle into `dest` (a worker-local course root); returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest
