"""vae-train: its flags parse, and reach the run they start."""

import json

from vaelib.commands import train as train_cli
from vaelib.commands.cli import explicit_flags
from vaelib.core import checkpoints
from vaelib.core.model import ModelConfig
from vaelib.core.training import QUICK_TRAINING
from vaelib.runs import run


def test_train_cli_parses_new_flags():
    """--kl-warmup (either spelling), --dropout and --data reach the parsed args; by default the dropout is the
    model's and neither the warm-up nor the data kind is an explicit setting."""
    parser = train_cli.build_parser()
    assert parser.parse_args(["--kl-warmup", "3"]).kl_warmup == parser.parse_args(["--kl_warmup", "3"]).kl_warmup == 3
    assert (
        parser.parse_args(["--dropout", "0"]).dropout == 0.0 and parser.parse_args(["--dropout", "0.5"]).dropout == 0.5
    )
    assert parser.parse_args(["--data", "binary"]).data == "binary"
    defaults = parser.parse_args([])
    assert defaults.dropout == ModelConfig().dropout
    assert "kl_warmup" not in explicit(defaults) and "data" not in explicit(defaults)
    args = parser.parse_args(["--kl-warmup", "0", "--data", "grey"])
    assert explicit(args) == {"kl_warmup": 0, "data": "grey"}


def explicit(args) -> dict:
    """The settings vae-train passes on to make_config: those given on the command line."""
    return explicit_flags(args, train_cli.OVERRIDES)


def test_train_cli_new_flags_reach_the_run(small_mnist, isolated_checkpoints, monkeypatch, capsys):
    """`vae-train --quick --dropout 0 --data binary --kl-warmup 1` writes a run whose config.json says so, and as a
    binary run it keeps out of best_model/."""
    monkeypatch.setattr(run, "load_mnist", lambda *args, **kwargs: small_mnist)
    monkeypatch.setenv("VAELIB_QUICK", "0")
    argv = ["--quick", "--epochs", "1", "--dropout", "0", "--data", "binary", "--kl-warmup", "1", "--device", "cpu"]
    train_cli.main(argv)
    (run_dir,) = isolated_checkpoints.glob("run_*")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["dropout"] == 0.0 and config["model"] == ModelConfig(dropout=0.0).to_dict()
    assert config["train"]["data"] == "binary" and config["train"]["kl_warmup"] == 1
    assert config["train"]["epochs"] == 1 and config["train"]["train_images"] == QUICK_TRAINING["train_images"]
    assert "Best model not offered" in capsys.readouterr().out
    assert not checkpoints.best_model_path(isolated_checkpoints).exists()
