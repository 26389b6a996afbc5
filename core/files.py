"""Files only the hub's own user may read: the SQLite database, the demo credentials, the customers file.

They are created owner-only (0600) from the start, never written first and narrowed afterwards (a file
created with the process's umask is readable by others until the chmod); a file that already exists with
a wider mode is narrowed when the hub opens it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE", "ensure_private", "write_private"]

PRIVATE = 0o600


def ensure_private(path: Path, *, create: bool = True) -> None:
    """Create ``path`` (empty) with mode 0600 when ``create`` and missing; narrow it to 0600 if it exists."""
    flags = os.O_WRONLY | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, PRIVATE)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return  # nothing to narrow, or not ours to narrow: whoever opens it next reports the problem
    try:
        if os.fstat(fd).st_mode & 0o777 != PRIVATE:
            os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text``; the file is 0600 before a byte of it is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ensure_private(path)
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
