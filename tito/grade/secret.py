"""The course secret and the per-submission seed derived from it.

The inputs of every case are drawn from a seed that depends on the course secret, the student,
the module and the exact files submitted. The secret stays in the instructor's course directory
(never in a sandbox, never in the student kit), so nobody can compute a submission's inputs in
advance; the seed is a function of the files, so regrading the same files gives the same grade,
and a changed submission is checked on new inputs (feedback about one set of inputs is no
answer key for the next).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from tito.errors import TitoError

SECRET_BYTES = 32


def course_secret(path: Path) -> bytes:
    """The secret at `path`, created (mode 0600, atomically) the first time it is needed."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another run created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
    try:
        text = path.read_text().strip()
        secret = bytes.fromhex(text)
    except (OSError, ValueError) as error:
        raise TitoError(f"{path}: the course secret is unreadable ({error}); restore it from a backup, "
                        "or delete it to start a new one (regrades then draw new inputs)") from None
    if len(secret) < 16:
        raise TitoError(f"{path}: the course secret is too short ({len(secret)} bytes, at least 16)")
    return secret


def submission_seed(secret: bytes, student: str, module: str, digest: str) -> int:
    """A 63-bit seed: HMAC-SHA256 of (module, student, digest of the submitted files)."""
    message = "\0".join((module, student, digest)).encode("utf-8")
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big") >> 1
