"""The README's Quickstart: the plain commands ("Without make") are the Makefile's, and they work.

CI (.ci/run) runs the install and test commands; here the two `make run` commands run in quick mode
from an empty folder, as a learner would type them in the activated environment.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def plain_commands() -> list[str]:
    """The commands of the README's "Without make" block, comments dropped."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"### Without make.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with $(BIN)/ dropped (the activated environment)."""
    text = (ROOT / "Makefile").read_text()
    body = re.search(rf"^{target}:.*?\n((?:\t.*\n)+)", text, re.M).group(1)
    return [line.strip().replace("$(BIN)/", "") for line in body.splitlines()]


def test_plain_commands_match_the_makefile():
    commands = plain_commands()
    assert commands[:3] == ["python3 -m venv .venv", "source .venv/bin/activate", 'python -m pip install -e ".[dev]"']
    assert commands[3:5] == make_recipe("run")
    assert commands[5:] == make_recipe("lint") + make_recipe("test")


def test_ci_runs_the_plain_commands():
    ci = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    commands = plain_commands()
    for command in commands[:2] + commands[5:]:
        assert command in ci, f".ci/run lacks {command!r}"
    assert any(line.startswith("python -m pip install") and '-e ".[dev]"' in line for line in ci)


def test_make_run_commands_work(mnist_root, tmp_path):
    """`vae-train --recipe fast --epochs 10` then `vae-generate ...`, quick mode, from an empty folder."""
    bin_dir = Path(sys.executable).parent  # the activated environment's scripts
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VAELIB_QUICK": "1",
        "VAELIB_DATA_DIR": str(mnist_root),
        "VAELIB_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    outputs = []
    for command in plain_commands()[3:5]:
        done = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    trained, generated = outputs
    assert "New best model" in trained and "your best model" in generated
    assert (tmp_path / "generated.png").read_bytes()[:4] == b"\x89PNG"
    (run_dir,) = (tmp_path / "checkpoints").glob("run_*")
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 10  # explicit --epochs 10 wins
