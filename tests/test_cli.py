"""The command-line front end: an end-to-end run on real data, and one clear line for every bad input."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from vaelib import checkpoint as ck
from vaelib import generate
from vaelib import train as train_cli
from vaelib.model import VAE, ModelConfig


def run_cli(module, *args, env, cwd):
    return subprocess.run([sys.executable, "-m", f"vaelib.{module}", *args], env=env, cwd=cwd, capture_output=True, text=True)


def test_train_quick_then_generate_from_what_it_wrote(mnist_root, cli_env, isolated_checkpoints, tmp_path):
    trained = run_cli("train", "--seed", "1", env=cli_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "Using device: cpu" in trained.stdout and "New best model" in trained.stdout
    (run_dir,) = isolated_checkpoints.glob("run_*")
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "metrics.csv", "loss.png", "last.pth", "vae_final.pth", "checkpoint_epoch_0002.pth"} <= names
    assert {"reconstructions_epoch_0001.png", "reconstructions_epoch_0002.png"} <= names
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 2  # header + one row per epoch

    generated = run_cli("generate", "--num_samples", "12", "--seed", "3", "--output", "g.png", "--save-array", "g.npy", env=cli_env, cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert "your best model" in generated.stdout
    samples = np.load(tmp_path / "g.npy")
    assert samples.shape == (12, 28, 28) and samples.dtype == np.float32 and 0 <= samples.min() and samples.max() <= 1
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same seed gives the same digits, straight from the best model
    model, _ = ck.load_model(ck.best_path(isolated_checkpoints))
    expected = model.sample(12, generator=torch.Generator().manual_seed(3))[:, 0].numpy()
    np.testing.assert_allclose(samples, expected, atol=1e-6)


def test_a_second_run_keeps_a_better_best_model(mnist_root, cli_env, isolated_checkpoints, tmp_path):
    best = ck.best_path(isolated_checkpoints)
    ck.save_checkpoint({"model_state": VAE().state_dict(), "model_config": ModelConfig().to_dict(), "val_loss": 1.0}, best)
    before = best.read_bytes()
    trained = run_cli("train", env=cli_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "Best model kept" in trained.stdout and best.read_bytes() == before


def evil_pickle(path, marker):
    """A pickle whose loading would create `marker`: weights-only loading must refuse it."""
    import pickle

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path.write_bytes(pickle.dumps({"model_state": Payload(), "model_config": {"latent_dim": 2}}))


@pytest.fixture
def files(tmp_path):
    """A good checkpoint, bad ones, and an existing output file that must survive every mistake."""
    good = tmp_path / "good.pth"
    ck.save_checkpoint({"model_state": VAE().state_dict(), "model_config": ModelConfig().to_dict()}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:3000])
    other = tmp_path / "other.pth"
    state = VAE().state_dict()
    state["decoder.0.weight"] = torch.zeros(100, 2)
    ck.save_checkpoint({"model_state": state, "model_config": ModelConfig().to_dict()}, other)
    wide = tmp_path / "latent16.pth"
    ck.save_checkpoint({"model_state": VAE(ModelConfig(16)).state_dict(), "model_config": {"latent_dim": 16}}, wide)
    evil_pickle(tmp_path / "evil.pth", tmp_path / "PWNED")
    (tmp_path / "keep.png").write_bytes(b"precious")
    return tmp_path


BAD_GENERATE = {
    "zero samples": (["--num_samples", "0"], "must be greater than 0"),
    "negative samples": (["--num_samples", "-3"], "must be greater than 0"),
    "latent_dim 0": (["--latent_dim", "0"], "must be greater than 0"),
    "missing checkpoint": (["--checkpoint", "{d}/nope.pth"], "checkpoint not found"),
    "truncated checkpoint": (["--checkpoint", "{d}/truncated.pth"], "truncated or corrupt"),
    "other architecture": (["--checkpoint", "{d}/other.pth"], "different architecture"),
    "other latent size": (["--checkpoint", "{d}/latent16.pth", "--latent_dim", "2"], "latent_dim 2 does not match the checkpoint's latent_dim 16"),
    "pickle carrying code": (["--checkpoint", "{d}/evil.pth"], "refused to load"),
    "output in a missing folder": (["--checkpoint", "{d}/good.pth", "--output", "{d}/no/such/dir/x.png"], "does not exist"),
    "output is a folder": (["--checkpoint", "{d}/good.pth", "--output", "{d}"], "is a directory"),
}
BAD_TRAIN = {
    "zero epochs": (["--epochs", "0"], "must be greater than 0"),
    "negative batch size": (["--batch_size", "-1"], "must be greater than 0"),
    "zero learning rate": (["--learning_rate", "0"], "must be greater than 0"),
    "latent_dim 0": (["--latent_dim", "0"], "must be greater than 0"),
    "not a number": (["--epochs", "ten"], "expected a int"),
    "missing MNIST": (["--data-dir", "{d}/empty"], "MNIST not found"),
    "resume a missing checkpoint": (["--resume", "{d}/nope.pth"], "checkpoint not found"),
    "resume a pickle carrying code": (["--resume", "{d}/evil.pth"], "refused to load"),
    "unwritable checkpoint dir": (["--checkpoint-dir", "{d}/keep.png/sub", "--data-dir", "MNIST"], "pick a writable --checkpoint-dir"),
}


def snapshot(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("main, argv, expected", [
    *[pytest.param(generate.main, a, e, id=f"generate: {k}") for k, (a, e) in BAD_GENERATE.items()],
    *[pytest.param(train_cli.main, a, e, id=f"train: {k}") for k, (a, e) in BAD_TRAIN.items()],
])  # fmt: skip
def test_bad_input_gives_one_line_and_changes_nothing(main, argv, expected, files, mnist_root, capsys, monkeypatch):
    monkeypatch.chdir(files)
    argv = [a.format(d=files) for a in argv]
    argv = [str(mnist_root) if a == "MNIST" else a for a in argv]
    (files / "empty").mkdir(exist_ok=True)
    before = snapshot(files)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert snapshot(files) == before
    assert not (files / "PWNED").exists()


def test_bad_input_from_the_real_command_has_no_traceback(files, cli_env):
    result = run_cli("generate", "--checkpoint", str(files / "evil.pth"), env=cli_env, cwd=files)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and not (files / "PWNED").exists()
