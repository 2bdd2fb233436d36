"""The command line: what all four commands share (vaelib/commands/cli.py: both spellings of every multi-word flag,
one line for every mistake, quick mode that keeps explicit flags, the console entry), and `vae-train` +
`vae-generate` end to end.

Each command's own work is tested in its own file beside this one (test_train.py, test_generate.py,
test_evaluate.py, test_train_classifier.py); resuming with vae-train in tests/runs/test_run.py and
tests/test_reliability.py."""

import argparse
import gc
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from vaelib.commands import cli, evaluate, generate, train_classifier
from vaelib.commands import train as train_cli
from vaelib.core import checkpoints
from vaelib.core.errors import VAEError
from vaelib.core.model import VAE, ModelConfig
from vaelib.runs import folder, storage

COMMANDS = {
    "vae-train": train_cli.build_parser,
    "vae-generate": generate.build_parser,
    "vae-evaluate": evaluate.build_parser,
    "vae-classifier": train_classifier.build_parser,
}
MULTI_WORD = {  # every multi-word flag of each command, in the spelling --help shows
    "vae-train": [
        "--latent_dim",
        "--batch_size",
        "--learning_rate",
        "--kl-warmup",
        "--free-bits",
        "--data-dir",
        "--checkpoint-dir",
        "--save-every",
    ],
    "vae-generate": ["--num_samples", "--latent_dim", "--save-array", "--data-dir"],
    "vae-evaluate": ["--num_samples", "--test_images", "--batch_size", "--data-dir"],
    "vae-classifier": ["--data-dir"],
}


def run_cli(module, *args, env, cwd):
    command = [sys.executable, "-m", f"vaelib.{module}", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)


# ----- end to end


def test_train_quick_then_generate_from_what_it_wrote(mnist_root, cli_env, isolated_checkpoints, tmp_path):
    """`vae-train` in quick mode writes a whole run folder and the best model; `vae-generate` then draws from that
    best model by default, the same digits as VAE.sample with the same seed."""
    trained = run_cli("train", "--seed", "1", "--save_every", "1", env=cli_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "Using device: cpu" in trained.stdout and "New best model" in trained.stdout
    (run_dir,) = isolated_checkpoints.glob("run_*")
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "metrics.csv", "loss.png", "last.pth", "vae_final.pth", "checkpoint_epoch_0002.pth"} <= names
    assert {"reconstructions_epoch_0001.png", "reconstructions_epoch_0002.png"} <= names
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 2  # header + one row per epoch

    argv = ["--num_samples", "12", "--seed", "3", "--output", "g.png", "--save_array", "g.npy"]
    generated = run_cli("generate", *argv, env=cli_env, cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert "your best model" in generated.stdout
    samples = np.load(tmp_path / "g.npy")
    assert samples.shape == (12, 28, 28) and samples.dtype == np.float32 and 0 <= samples.min() and samples.max() <= 1
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same seed gives the same digits, straight from the best model
    model, _ = checkpoints.load_model(checkpoints.best_model_path(isolated_checkpoints))
    expected = model.sample(12, generator=torch.Generator().manual_seed(3))[:, 0].numpy()
    np.testing.assert_allclose(samples, expected, atol=1e-6)


def test_a_second_run_keeps_a_better_best_model(mnist_root, cli_env, isolated_checkpoints, tmp_path):
    best = checkpoints.best_model_path(isolated_checkpoints)
    model = {"model_state": VAE().state_dict(), "model_config": ModelConfig().to_dict()}
    storage.save_checkpoint({**model, "val_objective": 1.0, "val_neg_elbo": 1.0}, best)
    before = best.read_bytes()
    trained = run_cli("train", env=cli_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "Best model kept" in trained.stdout and best.read_bytes() == before


def test_train_quick_keeps_explicit_epochs(mnist_root, isolated_checkpoints, capsys, monkeypatch):
    """`vae-train --quick --epochs 3`: the quick subset, but the 3 epochs asked for (metrics.csv has 3 rows)."""
    monkeypatch.setenv("VAELIB_QUICK", "0")  # quick mode from the flag alone
    train_cli.main(["--quick", "--epochs", "3", "--data-dir", str(mnist_root), "--device", "cpu"])
    (run_dir,) = isolated_checkpoints.glob("run_*")
    assert [row["epoch"] for row in folder.read_metrics(run_dir)] == [1, 2, 3]
    config = json.loads((run_dir / "config.json").read_text())["train"]
    assert config["epochs"] == 3 and config["train_images"] == 2048 and config["save_every"] == 1
    assert "Finished 3 epochs" in capsys.readouterr().out


def test_evaluate_quick_keeps_explicit_k(mnist_root, save_model, capsys, monkeypatch):
    """`vae-evaluate --quick --k 7 --json`: quick mode's sizes, except the IWAE k asked for."""
    monkeypatch.setenv("VAELIB_QUICK", "0")  # quick mode from the flag alone
    path = save_model(VAE())
    argv = ["--quick", "--k", "7", "--json", "--checkpoint", str(path)]
    evaluate.main([*argv, "--data-dir", str(mnist_root), "--device", "cpu"])
    result = json.loads(capsys.readouterr().out)
    assert result["iwae_k"] == 7 and result["test_images"] == 500 and result["num_samples"] == 500


# ----- both spellings of every multi-word flag


def value_for(action: argparse.Action) -> list[str]:
    """A valid command-line value for the flag (none for a switch)."""
    if action.nargs == 0:
        return []
    return [str(action.choices[0])] if action.choices else ["3"]


def multi_word_actions(parser) -> dict:
    return {a.option_strings[0]: a for a in parser._actions if any("_" in s or "-" in s[2:] for s in a.option_strings)}


@pytest.mark.parametrize("command", COMMANDS)
def test_multi_word_flags_accept_both_spellings(command):
    """--batch_size and --batch-size (and so on for every multi-word flag) set the same option to the same value."""
    parser = COMMANDS[command]()
    actions = multi_word_actions(parser)
    assert sorted(actions) == sorted(MULTI_WORD[command])
    for flag, action in actions.items():
        other = cli.other_spelling(flag)
        assert other != flag and set(action.option_strings) == {flag, other}
        value = value_for(action)
        first, second = parser.parse_args([flag, *value]), parser.parse_args([other, *value])
        assert first == second and getattr(first, action.dest) != action.default, flag


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_one_spelling(command):
    """--help lists each multi-word flag once, in its first spelling (the epilog names the rule once)."""
    parser = COMMANDS[command]()
    text = parser.format_help()
    assert parser.epilog in text
    text = text.replace(parser.epilog, "")
    for flag in MULTI_WORD[command]:
        assert f"{flag} " in text or f"{flag}\n" in text, flag
        assert cli.other_spelling(flag) not in text, flag


def test_help_lists_the_help_flag():
    assert "-h, --help" in train_cli.build_parser().format_help()


@pytest.mark.parametrize("argv", [["--epoch", "3"], ["--batch", "64"], ["--learning-r", "0.1"]])
def test_abbreviated_flags_are_refused(argv, capsys):
    """allow_abbrev is off: a prefix of a flag is an error, not a guess."""
    with pytest.raises(SystemExit) as exit_info:
        train_cli.build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "unrecognized arguments" in err


# ----- the helpers in cli.py


def test_other_spelling():
    assert cli.other_spelling("--batch_size") == "--batch-size"
    assert cli.other_spelling("--batch-size") == "--batch_size"
    assert cli.other_spelling("--checkpoint-dir") == "--checkpoint_dir"
    assert cli.other_spelling("--epochs") == "--epochs"


def test_positive():
    integer, rate = cli.positive(int), cli.positive(float, zero_ok=True)
    assert integer("3") == 3 and rate("0") == 0.0 and rate("2.5") == 2.5
    mistakes = [
        (integer, "0", "must be greater than 0, got 0"),
        (integer, "2.5", "expected a int"),
        (rate, "-1", "must be at least 0, got -1"),
        (integer, "ten", "got 'ten'"),
    ]
    for parse, text, message in mistakes:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(text)


def test_dropout_rate():
    """A dropout probability: from 0 up to, not including, 1."""
    assert cli.dropout_rate("0") == 0.0 and cli.dropout_rate("0.25") == 0.25 and cli.dropout_rate("0.999") == 0.999
    mistakes = [("1", "got 1"), ("1.5", "got 1.5"), ("-0.1", "got -0.1"), ("x", "expected a float, got 'x'")]
    for text, message in mistakes:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            cli.dropout_rate(text)


def test_explicit_flags():
    """Only the flags given on the command line (their default is None), with the values given, falsy ones too."""
    args = train_cli.build_parser().parse_args(["--epochs", "4", "--beta", "0", "--seed", "0"])
    assert cli.explicit_flags(args, train_cli.OVERRIDES) == {"epochs": 4, "beta": 0.0, "seed": 0}


def test_writable_file(tmp_path):
    assert cli.writable_file(tmp_path / "x.png", "--output") == tmp_path / "x.png"
    with pytest.raises(VAEError, match="is a directory"):
        cli.writable_file(tmp_path, "--output")
    with pytest.raises(VAEError, match=r"^--output .*: folder .*missing does not exist"):
        cli.writable_file(tmp_path / "missing" / "x.png", "--output")


def test_cli_errors_turns_vae_error_into_one_line(capsys):
    @cli.cli_errors
    def main():
        raise VAEError("something is wrong; do this")

    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2 and capsys.readouterr().err == "error: something is wrong; do this\n"


# ----- one clear line for every mistake


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
    storage.save_checkpoint({"model_state": VAE().state_dict(), "model_config": ModelConfig().to_dict()}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:3000])
    other = tmp_path / "other.pth"
    state = VAE().state_dict()
    state["decoder.0.weight"] = torch.zeros(100, 2)
    storage.save_checkpoint({"model_state": state, "model_config": ModelConfig().to_dict()}, other)
    wide = tmp_path / "latent16.pth"
    storage.save_checkpoint(
        {"model_state": VAE(ModelConfig(16)).state_dict(), "model_config": {"latent_dim": 16}}, wide
    )
    evil_pickle(tmp_path / "evil.pth", tmp_path / "PWNED")
    (tmp_path / "keep.png").write_bytes(b"precious")
    return tmp_path


BAD_GENERATE = {
    "zero samples": (["--num_samples", "0"], "must be greater than 0"),
    "negative samples": (["--num-samples", "-3"], "must be greater than 0"),
    "latent_dim 0": (["--latent_dim", "0"], "must be greater than 0"),
    "missing checkpoint": (["--checkpoint", "{d}/nope.pth"], "checkpoint not found"),
    "truncated checkpoint": (["--checkpoint", "{d}/truncated.pth"], "truncated or corrupt"),
    "other architecture": (["--checkpoint", "{d}/other.pth"], "different architecture"),
    "other latent size": (
        ["--checkpoint", "{d}/latent16.pth", "--latent_dim", "2"],
        "latent_dim 2 does not match the checkpoint's latent_dim 16",
    ),
    "pickle carrying code": (["--checkpoint", "{d}/evil.pth"], "refused to load"),
    "output in a missing folder": (
        ["--checkpoint", "{d}/good.pth", "--output", "{d}/no/such/dir/x.png"],
        "does not exist",
    ),
    "output is a folder": (["--checkpoint", "{d}/good.pth", "--output", "{d}"], "is a directory"),
}
BAD_TRAIN = {
    "zero epochs": (["--epochs", "0"], "must be greater than 0"),
    "negative batch size": (["--batch_size", "-1"], "must be greater than 0"),
    "zero learning rate": (["--learning-rate", "0"], "must be greater than 0"),
    "latent_dim 0": (["--latent_dim", "0"], "must be greater than 0"),
    "not a number": (["--epochs", "ten"], "expected a int"),
    "abbreviated flag": (["--epoch", "3"], "unrecognized arguments: --epoch 3"),
    "unknown recipe": (["--recipe", "slow"], "invalid choice: 'slow'"),
    "dropout 1": (["--dropout", "1"], "argument --dropout: must be at least 0 and below 1, got 1"),
    "negative dropout": (["--dropout", "-0.1"], "argument --dropout: must be at least 0 and below 1, got -0.1"),
    "dropout not a number": (["--dropout", "x"], "argument --dropout: expected a float, got 'x'"),
    "unknown data kind": (["--data", "colour"], "argument --data: invalid choice: 'colour'"),
    "negative warm-up": (["--kl_warmup", "-1"], "argument --kl-warmup/--kl_warmup: must be at least 0, got -1"),
    "missing MNIST": (["--data-dir", "{d}/empty"], "MNIST not found"),
    "resume a missing checkpoint": (["--resume", "{d}/nope.pth"], "checkpoint not found"),
    "resume a pickle carrying code": (["--resume", "{d}/evil.pth"], "refused to load"),
    "resume a model file": (["--resume", "{d}/good.pth"], "no training state"),
    "unwritable checkpoint dir": (
        ["--checkpoint-dir", "{d}/keep.png/sub", "--data-dir", "MNIST"],
        "pick a writable --checkpoint-dir",
    ),
}
BAD_EVALUATE = {
    "negative k": (["--k", "-1"], "argument --k: must be at least 0, got -1"),
    "unknown data kind": (["--data", "colour"], "argument --data: invalid choice: 'colour'"),
    "zero test images": (["--test-images", "0"], "must be greater than 0"),
    "abbreviated flag": (["--num", "5"], "unrecognized arguments: --num 5"),
}
BAD_CLASSIFIER = {
    "zero epochs": (["--epochs", "0"], "must be greater than 0"),
    "missing MNIST": (["--data_dir", "{d}/empty", "--output", "{d}/clf.pth"], "MNIST not found"),
}


def snapshot(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("main, argv, expected", [
    *[pytest.param(generate.main, a, e, id=f"generate: {k}") for k, (a, e) in BAD_GENERATE.items()],
    *[pytest.param(train_cli.main, a, e, id=f"train: {k}") for k, (a, e) in BAD_TRAIN.items()],
    *[pytest.param(evaluate.main, a, e, id=f"evaluate: {k}") for k, (a, e) in BAD_EVALUATE.items()],
    *[pytest.param(train_classifier.main, a, e, id=f"classifier: {k}") for k, (a, e) in BAD_CLASSIFIER.items()],
])  # fmt: skip
def test_bad_input_gives_one_line_and_changes_nothing(main, argv, expected, files, mnist_root, capsys, monkeypatch):
    monkeypatch.chdir(files)
    argv = [a.format(d=files) for a in argv]
    argv = [str(mnist_root) if a == "MNIST" else a for a in argv]
    (files / "empty").mkdir(exist_ok=True)
    before = snapshot(files)
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--device", "cpu"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert snapshot(files) == before
    assert not (files / "PWNED").exists()


def test_bad_input_in_a_shell_has_no_traceback(files, cli_env):
    result = run_cli("generate", "--checkpoint", str(files / "evil.pth"), env=cli_env, cwd=files)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and not (files / "PWNED").exists()


@pytest.mark.parametrize("bad", ["10", "-1", "seven", "3.5"])
def test_generate_rejects_a_bad_digit_in_one_line(bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        generate.main(["--digit", bad, "--output", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--digit: must be a digit from 0 to 9, got {bad!r}" in err
    assert not (tmp_path / "x.png").exists()


def test_bad_digit_in_a_shell_has_no_traceback(tmp_path):
    result = run_cli("generate", "--digit", "11", "--output", str(tmp_path / "x.png"), env=None, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "error: argument --digit: must be a digit from 0 to 9, got '11' (see vae-generate --help)\n"


def test_console_entry_runs_main_with_the_collector_frozen():
    """The console scripts' entry runs main() after freezing the objects of the imports, and freezes again after."""
    seen = []
    entry = cli.console(lambda: seen.append(gc.get_freeze_count()))
    before = gc.get_freeze_count()
    try:
        entry()
        after = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # this test runs inside pytest's process: give the objects back to the collector
    assert seen and seen[0] >= before and after >= seen[0] > 0
