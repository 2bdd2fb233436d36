"""Atomic writes: a reader sees the old complete file or the new one, and a failed write leaves no temporary file."""

import os

import pytest

from vaelib.runs.atomic import atomic_write, remove_temporaries


def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with atomic_write(path, "w") as fh:
        fh.write("new")
        assert path.read_text() == "old"  # not yet: the new text is in a temporary file beside it
        assert len(list(tmp_path.glob(".f.txt.*.tmp"))) == 1
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="mid-write"), atomic_write(path) as fh:
        fh.write(b"half")
        raise RuntimeError("mid-write")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_failed_write_names_the_file(tmp_path):
    """An OSError without a file name (a full disk) gets the target's name, for a useful one-line message."""
    with pytest.raises(OSError) as failed, atomic_write(tmp_path / "f.bin"):
        raise OSError(28, "No space left on device")
    assert failed.value.filename == str(tmp_path / "f.bin")


def test_new_files_get_the_usual_permissions(tmp_path):
    with atomic_write(tmp_path / "f.bin") as fh:
        fh.write(b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o666 & ~mask


def test_remove_temporaries(tmp_path):
    """Only the temporary files of the name given (or of all names) go; real files stay."""
    for name in (".last.pth.ab12.tmp", ".best.pth.cd34.tmp", "last.pth", "notes.tmp"):
        (tmp_path / name).write_bytes(b"")
    remove_temporaries(tmp_path, "last.pth")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".best.pth.cd34.tmp", "last.pth", "notes.tmp"]
    remove_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pth", "notes.tmp"]
