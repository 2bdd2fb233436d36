"""Where things live and quick mode: the environment variables, the shipped weights folder, and how paths print."""

from pathlib import Path

import pytest

import vaelib
from vaelib.core import settings


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), (" Yes ", True), ("on", True),
                                          ("0", False), ("", False), ("no", False), ("2", False)])  # fmt: skip
def test_quick_mode_values(monkeypatch, value, quick):
    monkeypatch.setenv("VAELIB_QUICK", value)
    assert settings.quick_mode() is quick


def test_folders_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VAELIB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VAELIB_CHECKPOINT_DIR", str(tmp_path / "ck"))
    assert settings.data_dir() == tmp_path / "data" and settings.checkpoint_dir() == tmp_path / "ck"
    monkeypatch.delenv("VAELIB_DATA_DIR")
    monkeypatch.setenv("VAELIB_CHECKPOINT_DIR", "")  # empty counts as unset
    root = settings.project_root()
    assert settings.data_dir() == root / "data" and settings.checkpoint_dir() == root / "checkpoints"


def test_project_root_is_this_checkout(tmp_path, monkeypatch):
    """The folder that holds vaelib/ and pyproject.toml, from wherever Python runs (a notebook runs in notebooks/)."""
    monkeypatch.chdir(tmp_path)
    assert settings.project_root() == Path(vaelib.__file__).resolve().parent.parent
    assert (settings.project_root() / "pyproject.toml").is_file()


def test_weights_dir_is_inside_the_package():
    assert settings.weights_dir().resolve() == Path(vaelib.__file__).resolve().parent / "weights"
    assert {p.name for p in settings.weights_dir().iterdir()} >= {"vae_latent2.pth", "vae_latent16.pth", "README.md"}


def test_display_path(tmp_path):
    """Relative to the project inside it (no machine-specific prefix in saved notebooks), absolute outside."""
    root = settings.project_root()
    assert settings.display_path(root / "checkpoints" / "run_1" / "last.pth") == str(Path("checkpoints/run_1/last.pth"))
    assert settings.display_path(tmp_path / "x.pth") == str((tmp_path / "x.pth").resolve())
