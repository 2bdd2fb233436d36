"""The package as a learner installs it: a wheel that carries the shipped models, used from an empty folder.

The wheel is built from a copy of the sources, installed with `pip install --target` outside the
repository, and run with that folder first on PYTHONPATH, so the editable checkout cannot stand in for it.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("vae_latent2.pth", "vae_latent16.pth", "classifier.pth", "README.md")


def pip(*args, cwd):
    done = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """vaelib's wheel, built without network access from a copy of what pyproject.toml packages."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT / "vaelib", source / "vaelib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp / "dist"), str(source), cwd=tmp)
    (built,) = (tmp / "dist").glob("vaelib-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (no dependencies: they are those of this environment)."""
    target = tmp_path_factory.mktemp("site")
    pip("install", "--no-deps", "--no-compile", "--target", str(target), str(wheel), cwd=target)
    return target


@pytest.fixture
def outside(installed, mnist_root, tmp_path):
    """Run a command from an empty folder with the installed vaelib first on the path and no model of one's own."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "VAELIB_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "VAELIB_DATA_DIR": str(mnist_root),
        "VAELIB_QUICK": "",
    }

    def run(*command):
        done = subprocess.run(command, cwd=empty, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    return run, empty


def test_wheel_holds_the_weights(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"vaelib/weights/{name}" for name in SHIPPED} <= names
    assert {f"vaelib/weights/{p.name}" for p in (ROOT / "vaelib/weights").iterdir()} <= names  # the beta models too
    sizes = {info.filename: info.file_size for info in zipfile.ZipFile(wheel).infolist()}
    assert sizes["vaelib/weights/vae_latent2.pth"] == (ROOT / "vaelib/weights/vae_latent2.pth").stat().st_size


def test_installed_copy_is_the_one_imported(outside, installed):
    run, _ = outside
    shipped = "vaelib.pretrained_path(2), c.default_path()"
    code = f"import vaelib, vaelib.core.classifier as c; print(vaelib.__file__, {shipped})"
    lines = run(sys.executable, "-c", code).stdout.split()
    for line in lines:
        assert Path(line).is_relative_to(installed), line
    assert all(Path(line).exists() for line in lines)


def test_generate_from_an_empty_folder(outside, installed):
    run, empty = outside
    done = run(str(installed / "bin" / "vae-generate"), "--num_samples", "8", "--seed", "1", "--output", "g.png")
    assert "the shipped model" in done.stdout and str(installed) in done.stdout
    assert (empty / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_quick_from_an_empty_folder(outside, installed):
    run, _ = outside
    done = run(str(installed / "bin" / "vae-evaluate"), "--quick", "--json")
    result = json.loads(done.stdout)
    assert Path(result["checkpoint"]).is_relative_to(installed)
    assert result["latent_dim"] == 2 and result["test_images"] == 500
    assert 140 < result["neg_elbo"] < 180  # the shipped 2-D model: about 157 nats on the full test set


@pytest.mark.parametrize(
    "module, command",
    [("train", "vae-train"), ("generate", "vae-generate"), ("evaluate", "vae-evaluate"),
     ("train_classifier", "vae-classifier")],
)  # fmt: skip
def test_both_forms_of_each_command_work(outside, installed, module, command):
    """`vae-train` and `python -m vaelib.train` (and the same for the other three) are one command."""
    run, _ = outside
    script = run(str(installed / "bin" / command), "--help").stdout
    for form in (f"vaelib.{module}", f"vaelib.commands.{module}"):
        assert run(sys.executable, "-m", form, "--help").stdout == script
