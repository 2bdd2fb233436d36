"""Atomic file writes: readers (and crashes) see the old complete file or the new one, never half of one."""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file beside `path`; on success flush it to disk and rename it over `path`.

    The rename (os.replace) is atomic on POSIX and Windows, so a crash at any moment leaves
    either the previous version or the new one. On error the temporary file is removed.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; give the usual permissions
        with os.fdopen(fd, mode, **({} if "b" in mode else {"newline": ""})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename is None:
            err.filename = str(path)  # a failed write (disk full) does not say which file it was
        raise


def remove_temporaries(folder, name: str = "*") -> None:
    """Delete the temporary files atomic_write left in `folder` for `name` when its process was killed mid-write.

    Call it only where no other process can be writing the same files (a resumed run's folder, or under a lock).
    """
    for tmp in Path(folder).glob(f".{name}.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
