"""Reliability (issue 6): crash-safe checkpoints, resume, safe loading, and no data lost to bad input.

Training runs in real child processes that are killed with SIGKILL at chosen moments: half-way
through writing a checkpoint, after writing but before the rename, just after the rename, the
moment a temporary file appears, and at random times. After every kill each checkpoint on disk must
load, and resuming must finish the run exactly as the uninterrupted run did: same metrics, same
numbered checkpoints, same best model, bit for bit (training on CPU is deterministic).
"""

import contextlib
import errno
import json
import math
import multiprocessing
import os
import pickle
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import tqdm.auto
import tqdm.std
from matplotlib.figure import Figure

from vaelib.commands import generate
from vaelib.commands import train as train_cli
from vaelib.core import checkpoints, data
from vaelib.core.errors import VAEError
from vaelib.core.model import VAE, ModelConfig, NonFiniteLoss
from vaelib.core.training import TrainConfig
from vaelib.runs import folder, images, run, storage

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="forks and SIGKILLs processes: POSIX only")
FORK = multiprocessing.get_context("fork" if sys.platform != "win32" else None)  # children share data and torch
CONFIG = TrainConfig(epochs=3, batch_size=64, learning_rate=4e-3, schedule="onecycle", seed=1, save_every=1)
EPOCHS = list(range(1, CONFIG.epochs + 1))
TIMEOUT = 120  # seconds any child may take before the test gives up on it
KILL_LOG = []  # (chain, kill point, what happened): printed by the crash tests (pytest -s shows it)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Forked children inherit OpenMP's pool but not its threads, and hang in their first parallel region
    unless they run on one thread (what DataLoader workers do too)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def cheap_loss_plot(monkeypatch):
    """Draw loss.png as a bare one-line figure: the full figure took three quarters of a tiny epoch's time
    (profiled), and its looks are tested with the figures. It is still written every epoch, atomically."""

    def loss_figure(rows):
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([row["val_objective"] for row in rows])
        return fig

    monkeypatch.setattr(images, "loss_figure", loss_figure)


@pytest.fixture(scope="module")
def tiny(small_mnist) -> data.MNIST:
    """256 real training digits (4 steps of 64) and 128 validation digits: a fraction of a second an epoch."""
    return data.MNIST(small_mnist.train.head(256), small_mnist.val.head(128), small_mnist.test.head(128))


@pytest.fixture(scope="module")
def reference_run(tiny, tmp_path_factory) -> tuple[Path, float]:
    """CONFIG trained without interruption: its run folder and the seconds a whole run takes once warmed up."""
    ends = []
    root = tmp_path_factory.mktemp("reference")
    run_dir = run.fit(
        CONFIG, mnist=tiny, checkpoint_dir=root, on_epoch=lambda *_: ends.append(time.perf_counter())
    ).run_dir
    return run_dir, (ends[-1] - ends[0]) / (len(ends) - 1) * len(ends)  # the first epoch pays for warming up


@pytest.fixture(scope="module")
def reference(reference_run) -> Path:
    """The run folder every killed-and-resumed run must equal."""
    return reference_run[0]


@pytest.fixture(scope="module")
def stopped_after_epoch_1(tiny, tmp_path_factory) -> Path:
    """A checkpoint folder holding a CONFIG run stopped (KeyboardInterrupt, as in a notebook) after epoch 1."""
    root = tmp_path_factory.mktemp("stopped")

    def stop(row, model):
        raise KeyboardInterrupt

    assert run.fit(CONFIG, mnist=tiny, checkpoint_dir=root, on_epoch=stop).interrupted
    return root


@pytest.fixture
def stopped(stopped_after_epoch_1, tmp_path) -> tuple[Path, Path]:
    """A private copy of that folder: (checkpoint root, run folder)."""
    root = tmp_path / "stopped"
    shutil.copytree(stopped_after_epoch_1, root)
    (run_dir,) = root.glob("run_*")
    return root, run_dir


# ---------------------------------------------------------------- helpers


def snapshot(folder, mtimes: bool = True) -> dict:
    """Every file under folder with its bytes (and modification time)."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns if mtimes else 0) for p in Path(folder).rglob("*") if p.is_file()}


def temporaries(*folders) -> list[str]:
    """Temporary files left by atomic_write (.NAME.XXXXXXXX.tmp)."""
    return sorted(p.name for folder in folders if Path(folder).is_dir() for p in Path(folder).glob(".*.tmp"))


def target_of(temporary: str) -> str:
    """.last.pth.ab12cd34.tmp -> last.pth"""
    return temporary[1:].rsplit(".", 2)[0]


def one_line(err) -> str:
    message = str(err)
    assert "\n" not in message and message, message
    return message


def assert_loadable(root) -> dict:
    """Every checkpoint under root loads with weights-only unpickling and carries epochs 1..its epoch once."""
    found = {}
    for path in sorted(Path(root).rglob("*.pth")):
        ckpt = checkpoints.load_checkpoint(path)  # a torn file raises VAEError here
        assert [row["epoch"] for row in ckpt["metrics"]] == list(range(1, ckpt["epoch"] + 1)), path
        found[path] = ckpt["epoch"]
    for metrics in Path(root).rglob("metrics.csv"):
        epochs = [row["epoch"] for row in folder.read_metrics(metrics.parent)]
        assert epochs == list(range(1, len(epochs) + 1)), metrics
    return found


def same_rows(rows, expected):
    """Metric rows equal in every number except the wall-clock seconds."""
    keys = [k for k in folder.METRIC_FIELDS if k != "seconds"]
    return [[row[k] for k in keys] for row in rows] == [[row[k] for k in keys] for row in expected]


def assert_equals_reference(run_dir: Path, root: Path, reference: Path) -> None:
    """The run finished exactly as the uninterrupted reference run: a continuous log and identical models."""
    expected = checkpoints.load_checkpoint(reference / "vae_final.pth")
    final = checkpoints.load_checkpoint(run_dir / "vae_final.pth")
    assert [row["epoch"] for row in folder.read_metrics(run_dir)] == EPOCHS  # each epoch exactly once
    assert same_rows(folder.read_metrics(run_dir), expected["metrics"])
    assert same_rows(final["metrics"], expected["metrics"])
    for name in ["vae_final.pth", "last.pth", "best.pth", *(f"checkpoint_epoch_{e:04d}.pth" for e in EPOCHS)]:
        got, want = checkpoints.load_checkpoint(run_dir / name), checkpoints.load_checkpoint(reference / name)
        assert got["epoch"] == want["epoch"], name
        assert all(torch.equal(got["model_state"][k], want["model_state"][k]) for k in want["model_state"]), name
    best = checkpoints.load_checkpoint(checkpoints.best_model_path(root))
    assert best["val_neg_elbo"] == min(row["val_neg_elbo"] for row in expected["metrics"])
    assert {f"reconstructions_epoch_{e:04d}.png" for e in EPOCHS} | {"loss.png"} <= {p.name for p in run_dir.iterdir()}
    assert temporaries(run_dir, root / "best_model") == []


# ---------------------------------------------------------------- children killed at chosen moments


def _own_tqdm_lock() -> None:
    """In a forked child: stop sharing tqdm's inter-process lock with pytest. A child killed while holding
    it (it is held for every progress-bar update) would otherwise leave every later bar in pytest waiting forever."""
    for cls in {tqdm.std.tqdm, tqdm.auto.tqdm}:
        cls.set_lock(threading.RLock())


def _stop_here(ready) -> None:
    ready.set()
    time.sleep(TIMEOUT)
    os._exit(3)


def _pause_at(target: str, nth: int, phase: str, ready) -> None:
    """In a child: freeze (and tell the parent, who then kills us) at one moment of the nth write of `target`.

    phase "write": the temporary file holds half the checkpoint; "rename": the temporary file is complete
    and synced but not yet renamed; "renamed": just after the rename.
    """
    seen = {"n": 0}
    real_write, real_replace = storage.atomic_write, os.replace

    def hit(name):
        seen["n"] += name == target
        return name == target and seen["n"] == nth

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def write(self, blob):
            self.fh.write(bytes(blob)[: len(blob) // 2])
            self.fh.flush()
            _stop_here(ready)

    @contextlib.contextmanager
    def write(path, mode="wb"):
        with real_write(path, mode) as fh:
            yield HalfWriter(fh) if phase == "write" and hit(Path(path).name) else fh

    def rename(src, dst, *args, **kwargs):
        if phase == "rename" and hit(Path(dst).name):
            _stop_here(ready)
        real_replace(src, dst, *args, **kwargs)
        if phase == "renamed" and hit(Path(dst).name):
            _stop_here(ready)

    storage.atomic_write, os.replace = write, rename


def _train_child(start, root, tiny, pause, ready) -> None:
    _own_tqdm_lock()
    if pause:
        _pause_at(*pause, ready)
    if start is None:
        run.fit(CONFIG, mnist=tiny, checkpoint_dir=root)
    else:
        run.resume(start, mnist=tiny, checkpoint_dir=root)


def segment(root: Path, tiny, start=None, pause=None, kill_after=None, kill_on_temporary=None, watch=()):
    """Train (start=None) or resume `start` in a child process and SIGKILL it at the chosen moment.

    Returns what happened: "killed", "killed mid-save" (a temporary file survived the kill) or "finished".
    """
    ready, left_before = FORK.Event(), set(temporaries(*watch))
    child = FORK.Process(target=_train_child, args=(start, root, tiny, pause, ready))
    child.start()
    deadline = time.monotonic() + TIMEOUT
    try:
        if pause:
            while child.is_alive() and not ready.wait(0.02):
                assert time.monotonic() < deadline
            assert ready.is_set(), f"the child finished without reaching {pause}"
        elif kill_after is not None:
            child.join(kill_after)
        elif kill_on_temporary is not None:
            seen = set()
            while child.is_alive() and len(seen) < kill_on_temporary:
                seen.update(
                    name for folder in watch if folder.is_dir() for name in os.listdir(folder) if name.endswith(".tmp")
                )
                assert time.monotonic() < deadline
        else:
            child.join(TIMEOUT)
    finally:
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
        child.join(TIMEOUT)
    assert child.exitcode in (0, -signal.SIGKILL), f"child failed with exit code {child.exitcode}"
    if child.exitcode == 0:
        return "finished"
    return "killed mid-save" if set(temporaries(*watch)) - left_before else "killed"


def run_all(children) -> list:
    """Start the children, wait for them (killing any still alive after TIMEOUT), return their exit codes."""
    for child in children:
        child.start()
    for child in children:
        child.join(TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join()
    return [child.exitcode for child in children]


def new_run(root: Path, before: set) -> Path:
    (run_dir,) = set(root.glob("run_*")) - before
    return run_dir


def test_sigkill_at_each_write_then_resume(tiny, reference, tmp_path):
    """Chain A: kills at chosen moments of chosen writes, each followed by a resume from last.pth. Every kill leaves
    loadable checkpoints, and the resumed run ends exactly as the uninterrupted one."""
    root = tmp_path / "a"
    best_dir = root / "best_model"

    # killed half-way through the very first save (epoch 0): no last.pth at all, never a torn one
    outcome = segment(root, tiny, pause=("last.pth", 1, "write"))
    (abandoned,) = root.glob("run_*")
    assert outcome == "killed" and not (abandoned / "last.pth").exists() and temporaries(abandoned)
    assert_loadable(root)
    KILL_LOG.append(
        ("A", "new run, epoch 0: half-way through writing last.pth", "killed, torn temporary file, no last.pth")
    )

    before = set(root.glob("run_*"))
    outcome = segment(root, tiny, pause=("best.pth", 1, "write"))
    run_dir = new_run(root, before)
    assert not (run_dir / "best.pth").exists() and temporaries(run_dir)
    assert_loadable(root)
    KILL_LOG.append(
        ("A", "new run, epoch 1: half-way through writing best.pth", "killed, torn temporary file, no best.pth")
    )

    plan = [
        ("last.pth", 1, "renamed"),
        ("checkpoint_epoch_0002.pth", 1, "rename"),
        ("metrics.csv", 1, "rename"),
        ("loss.png", 1, "renamed"),
        ("last.pth", 1, "write"),
        ("vae_best.pth", 1, "write"),  # the shared best model, at the end of the run
        ("vae_final.pth", 1, "rename"),
    ]
    for target, nth, phase in plan:
        path = (best_dir if target == "vae_best.pth" else run_dir) / target
        old = path.read_bytes() if path.exists() else None
        epoch = checkpoints.load_checkpoint(run_dir / "last.pth")["epoch"]
        outcome = segment(root, tiny, start=run_dir / "last.pth", pause=(target, nth, phase), watch=(run_dir, best_dir))
        KILL_LOG.append(("A", f"resumed after epoch {epoch}: {phase} of {target}", outcome))
        if phase == "renamed":
            assert path.exists()  # the new complete version (it loads: below)
        else:
            assert outcome == "killed mid-save" and target in map(target_of, temporaries(run_dir, best_dir))
            assert (path.read_bytes() if path.exists() else None) == old  # the previous complete version
        assert_loadable(root)

    assert segment(root, tiny, start=run_dir / "last.pth", watch=(run_dir, best_dir)) == "finished"
    assert_equals_reference(run_dir, root, reference)


def test_sigkill_at_random_moments(tiny, reference_run, tmp_path):
    """Chain B: kills at random times and on sight of a save's temporary file (no code patched).

    A random time is a random fraction (up to a half) of what the rest of the run took the reference, so that
    most kills land inside the run on fast and slow machines alike; a run that finishes anyway is checked
    and replaced by a new one."""
    reference, seconds = reference_run
    rng = random.Random(6)
    kills = [("random", rng.uniform(0.02, 0.5)) for _ in range(4)]
    kills += [("temporary", rng.randint(1, 3)) for _ in range(4)]
    rng.shuffle(kills)
    root, run_dir, finished = None, None, 0
    for how, when in kills:
        if run_dir is None or not (run_dir / "last.pth").exists():  # a new run, or one killed before its first save
            root = tmp_path / f"b{len(list(tmp_path.iterdir()))}"
            shutil.rmtree(run_dir or root, ignore_errors=True)
            how, when = "random", (when if how == "random" else rng.uniform(0.02, 0.5)) * seconds
            outcome = segment(root, tiny, kill_after=when)
            (run_dir,) = root.glob("run_*")
            KILL_LOG.append(("B", f"new run, random time ({when:.2f} s)", outcome))
        else:
            left = 1 - checkpoints.load_checkpoint(run_dir / "last.pth")["epoch"] / CONFIG.epochs
            when = when * max(left, 0.1) * seconds if how == "random" else when
            kind = {"kill_after": when} if how == "random" else {"kill_on_temporary": when}
            outcome = segment(root, tiny, start=run_dir / "last.pth", watch=(run_dir, root / "best_model"), **kind)
            where = f"random time ({when:.2f} s)" if how == "random" else f"on sight of temporary file #{when}"
            KILL_LOG.append(("B", where, outcome))
        assert_loadable(root)
        if (run_dir / "vae_final.pth").exists():  # it finished before the kill: check it, then a new run
            assert_equals_reference(run_dir, root, reference)
            run_dir, finished = None, finished + 1
    if run_dir is not None:
        assert segment(root, tiny, start=run_dir / "last.pth", watch=(run_dir, root / "best_model")) == "finished"
        assert_equals_reference(run_dir, root, reference)
    assert finished < len(kills)  # the test did kill something (how many is machine-dependent: see KILL_LOG)
    print("\n".join(f"kill {i:2d} [{chain}] {where}: {what}" for i, (chain, where, what) in enumerate(KILL_LOG, 1)))


# ---------------------------------------------------------------- Ctrl-C on the command


# The real command, on the tiny subset: vaelib.commands.train.main with CONFIG's flags, the data source swapped
CLI_FLAGS = ["--epochs", "3", "--batch_size", "64", "--learning_rate", "0.004", "--schedule", "onecycle", "--seed", "1",
             "--save-every", "1", "--device", "cpu"]  # fmt: skip
CLI_SCRIPT = """
import sys, time
from vaelib.commands import train
from vaelib.core import data, training
from vaelib.runs import run
full = data.load_mnist()
run.load_mnist = lambda *args, **kwargs: data.MNIST(full.train.head(256), full.val.head(128), full.test.head(128))
step = training.train_step
def slow_step(*args, **kwargs):  # a second per epoch: the test's Ctrl-C lands inside the run even on a loaded machine
    time.sleep(0.25)
    return step(*args, **kwargs)
training.train_step = slow_step
train.main(sys.argv[1:])
"""


def _default_sigint():
    """In the child before it starts: SIGINT back to its default, so Python turns it into KeyboardInterrupt (a shell
    that starts a job in the background, as CI runners may, makes it ignored, and the child would inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_then_resume_equals_uninterrupted(
    mnist_root, tiny, reference, isolated_checkpoints, tmp_path, monkeypatch
):
    """Ctrl-C on `vae-train` saves the last finished epoch, says how to resume, and the printed resume command
    finishes the run exactly as the uninterrupted run did."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    env = {**os.environ, "VAELIB_CHECKPOINT_DIR": str(isolated_checkpoints), "PYTHONUNBUFFERED": "1"}
    env.update(OMP_NUM_THREADS=str(torch.get_num_threads()), VAELIB_QUICK="0")  # the reference's arithmetic, CONFIG
    with open(out, "w") as stdout, open(err, "w") as stderr:
        command = [sys.executable, "-c", CLI_SCRIPT, *CLI_FLAGS]
        proc = subprocess.Popen(  # Ctrl-C's signal handled as in a terminal, even if this test's runner ignores it
            command, env=env, cwd=tmp_path, stdout=stdout, stderr=stderr, preexec_fn=_default_sigint
        )
        deadline = time.monotonic() + TIMEOUT
        while not list(isolated_checkpoints.glob("run_*/last.pth")):  # the epoch-0 save: epoch 1 is starting
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.02)
        time.sleep(0.05)  # into epoch 1, whose four steps take a second (CLI_SCRIPT slows them, the maths unchanged)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) == 130, err.read_text()
    printed, errors = out.read_text(), err.read_text()
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors
    (path,) = re.findall(r"Resume with: vae-train --resume (\S+)", printed)
    (epoch,) = re.findall(r"Interrupted: \S+ holds the run after epoch (\d+) of 3", printed)
    assert checkpoints.load_checkpoint(path)["epoch"] == int(epoch) < 3 and Path(path).name == "last.pth"

    monkeypatch.setattr(run, "load_mnist", lambda *args, **kwargs: tiny)
    train_cli.main(["--resume", path])  # the command it printed, in this process to save a start-up
    assert_equals_reference(Path(path).parent, isolated_checkpoints, reference)


# ---------------------------------------------------------------- checkpoints that would run code


class _Touch:
    """Unpickling creates the file (a harmless stand-in for any code an attacker wants to run)."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __reduce__(self):
        return (Path.touch, (self.marker,))


class _System(_Touch):
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Exec(_Touch):
    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


WRITERS = {
    "plain pickle": lambda obj, path: path.write_bytes(pickle.dumps(obj)),
    "torch zip": lambda obj, path: torch.save(obj, path),
    "torch legacy": lambda obj, path: torch.save(obj, path, _use_new_zipfile_serialization=False),
}


@pytest.mark.parametrize("payload", [_Touch, _System, _Exec], ids=["Path.touch", "os.system", "exec"])
@pytest.mark.parametrize("fmt", WRITERS)
def test_code_carrying_checkpoint_is_refused(fmt, payload, tmp_path, capsys):
    """A checkpoint that would run code when unpickled is refused by every loader and by the command, in one line,
    and its code never runs."""
    marker, path = tmp_path / "PWNED", tmp_path / "evil.pth"
    evil = {"model_state": {"w": payload(marker)}, "model_config": ModelConfig().to_dict(), "val_neg_elbo": 1.0}
    WRITERS[fmt](evil, path)

    for load in (checkpoints.load_checkpoint, checkpoints.load_model):
        with pytest.raises(VAEError, match="refused to load") as refused:
            load(path)
        one_line(refused.value)
    with pytest.raises(SystemExit) as exited:
        generate.main(["--checkpoint", str(path), "--output", str(tmp_path / "g.png")])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("error: refused to load") and err.count("\n") == 1
    assert not marker.exists() and not (tmp_path / "g.png").exists()

    # the control: an unsafe load of the same file does run the payload, so the test above means something
    if fmt == "plain pickle":
        pickle.loads(path.read_bytes())
    else:
        torch.load(path, weights_only=False)
    assert marker.exists()


# ---------------------------------------------------------------- bad input: a NaN


def test_nan_in_training_data_stops_at_its_step(tiny, stopped):
    """A NaN in the training data stops training at its epoch and step, in one line, and changes no file."""
    root, run_dir = stopped
    before = snapshot(root, mtimes=False)
    images = tiny.train.images.clone()
    images[37, 0, 14, 14] = math.nan
    poisoned = tiny._replace(train=data.Digits(images, tiny.train.labels))
    # the step that meets image 37 in epoch 2: replay the shuffle from the saved generator state
    generator = torch.Generator()
    generator.set_state(checkpoints.load_checkpoint(run_dir / "last.pth")["rng_state"]["shuffle"])
    step = int((torch.randperm(len(images), generator=generator) == 37).nonzero()) // CONFIG.batch_size + 1

    with pytest.raises(NonFiniteLoss) as stopped_by:
        run.resume(run_dir / "last.pth", mnist=poisoned, checkpoint_dir=root)
    message = one_line(stopped_by.value)
    assert f"epoch 2, step {step}" in message and "nan" in message
    # last.pth, best.pth, checkpoint_epoch_0001.pth, best model: byte-identical
    assert snapshot(root, mtimes=False) == before


def test_nan_in_validation_data_changes_no_file(tiny, stopped):
    """A NaN in the validation data stops training before any checkpoint is overwritten."""
    root, run_dir = stopped
    before = snapshot(root, mtimes=False)
    images = tiny.val.images.clone()
    images[5, 0, 3, 3] = math.nan
    with pytest.raises(NonFiniteLoss) as stopped_by:
        poisoned = tiny._replace(val=data.Digits(images, tiny.val.labels))
        run.resume(run_dir / "last.pth", mnist=poisoned, checkpoint_dir=root)
    message = one_line(stopped_by.value)
    assert "epoch 2" in message and "validation" in message
    assert snapshot(root, mtimes=False) == before


# ---------------------------------------------------------------- runs at the same moment


def _fit_at_once(seed, root, tiny, barrier) -> None:
    _own_tqdm_lock()
    barrier.wait(TIMEOUT)
    run.fit(replace(CONFIG, epochs=1, seed=seed), mnist=tiny, checkpoint_dir=root)


def test_two_runs_at_once_get_their_own_folders(tiny, tmp_path):
    """Two runs started at the same moment get their own folders, and the better of them becomes the best model."""
    root = tmp_path / "together"
    barrier = FORK.Barrier(2)
    children = [FORK.Process(target=_fit_at_once, args=(seed, root, tiny, barrier)) for seed in (11, 12)]
    assert run_all(children) == [0, 0]
    run_dirs = sorted(root.glob("run_*"))
    assert len(run_dirs) == 2
    assert sorted(runs_config["train"]["seed"] for runs_config in map(_config, run_dirs)) == [11, 12]
    bests = [checkpoints.load_checkpoint(d / "best.pth") for d in run_dirs]
    for d in run_dirs:
        assert [row["epoch"] for row in folder.read_metrics(d)] == [1]
    winner = min(bests, key=lambda ckpt: ckpt["val_neg_elbo"])
    best = checkpoints.load_checkpoint(checkpoints.best_model_path(root))
    assert best["val_neg_elbo"] == winner["val_neg_elbo"] == min(ckpt["val_neg_elbo"] for ckpt in bests)
    assert all(torch.equal(best["model_state"][k], v) for k, v in winner["model_state"].items())


def _config(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


def _offer_many(path, values, barrier, state) -> None:
    barrier.wait(TIMEOUT)
    for value in values:
        payload = {"model_state": state, "model_config": ModelConfig().to_dict()}
        storage.update_best_model({**payload, "val_objective": value, "val_neg_elbo": value}, path)


def _make_run_dir(root, barrier, queue) -> None:
    barrier.wait(TIMEOUT)
    queue.put(folder.new_run_dir(root).name)


def test_processes_racing_for_best_and_folders(tmp_path):
    """Many processes racing for the best model and for run folders: the lowest value wins, no folder is shared."""
    best = tmp_path / "best_model" / "vae_best.pth"
    values = list(range(148, 100, -1))  # each writer improves on itself every time: a write per call, many races
    state = VAE().state_dict()
    barrier = FORK.Barrier(6)
    writers = [FORK.Process(target=_offer_many, args=(best, values[i::6], barrier, state)) for i in range(6)]
    assert run_all(writers) == [0] * 6
    assert checkpoints.load_checkpoint(best)["val_neg_elbo"] == min(values)
    assert temporaries(best.parent) == []

    barrier, queue = FORK.Barrier(8), FORK.Queue()
    makers = [FORK.Process(target=_make_run_dir, args=(tmp_path / "runs", barrier, queue)) for _ in range(8)]
    assert run_all(makers) == [0] * 8
    names = [queue.get(timeout=TIMEOUT) for _ in makers]
    assert len(set(names)) == 8 and {p.name for p in (tmp_path / "runs").iterdir()} == set(names)


# ---------------------------------------------------------------- disk full, unwritable folders


def test_uncreatable_checkpoint_dir_is_one_line(tiny, tmp_path):
    """A checkpoint dir that cannot be created is one clear line."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")  # root ignores chmod, but nobody can create a folder inside a file
    with pytest.raises(VAEError, match="writable --checkpoint-dir") as refused:
        run.fit(CONFIG, mnist=tiny, checkpoint_dir=blocker / "checkpoints")
    one_line(refused.value)


def _fit_until_the_disk_fills(root, tiny, queue) -> None:
    _own_tqdm_lock()
    quiet = os.open(os.devnull, os.O_WRONLY)  # our own output must not be what hits the size limit
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)

    def fill_disk(row, model):  # after epoch 1, no file of this process may grow past 64 KB: a real EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    try:
        run.fit(CONFIG, mnist=tiny, checkpoint_dir=root, on_epoch=fill_disk)
        queue.put("finished")
    except VAEError as err:
        queue.put(f"VAEError: {err}")
    except BaseException as err:
        queue.put(f"{type(err).__name__}: {err}")


def test_refused_write_is_one_line_last_survives(tiny, tmp_path):
    """A write the operating system refuses (file too large) is one line, and the last checkpoint survives."""
    root, queue = tmp_path / "full", FORK.Queue()
    assert run_all([FORK.Process(target=_fit_until_the_disk_fills, args=(root, tiny, queue))]) == [0]
    outcome = queue.get(timeout=TIMEOUT)
    assert outcome.startswith("VAEError: could not write") and "\n" not in outcome, outcome
    assert "File too large" in outcome, outcome
    (run_dir,) = root.glob("run_*")
    assert assert_loadable(root)[run_dir / "last.pth"] == 1
    assert temporaries(run_dir) == []


class _FullDisk:
    """A file whose writes fail as on a full disk (ENOSPC); everything else goes to the real file."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, blob):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.fh, name)


def test_disk_full_then_resume_equals_uninterrupted(stopped, tiny, reference, monkeypatch):
    """The disk fills up at one file at a time (checkpoints, metrics, images): one line each time, nothing lost;
    then there is space again, and resuming finishes the run exactly as the uninterrupted run."""
    root, run_dir = stopped
    failing = {"name": None}
    for module in (storage, folder, images):  # every module that writes files during training

        @contextlib.contextmanager
        def atomic_write(path, mode="wb", real=module.atomic_write):
            with real(path, mode) as fh:  # the real one: it must clean up its temporary file
                yield _FullDisk(fh) if Path(path).name == failing["name"] else fh

        monkeypatch.setattr(module, "atomic_write", atomic_write)
    for name in ["metrics.csv", "checkpoint_epoch_0002.pth", "last.pth", "reconstructions_epoch_0003.png"]:
        failing["name"] = name
        last = checkpoints.load_checkpoint(run_dir / "last.pth")
        with pytest.raises(VAEError) as refused:
            run.resume(run_dir / "last.pth", mnist=tiny, checkpoint_dir=root)
        assert "No space left on device" in one_line(refused.value) and name in str(refused.value), name
        assert checkpoints.load_checkpoint(run_dir / "last.pth")["epoch"] >= last["epoch"]
        assert_loadable(root)
        assert temporaries(run_dir) == []

    failing["name"] = None
    (root / "best_model").rename(root / "best_model.bak")
    (root / "best_model").write_text("a file where the best-model folder should be")
    with pytest.raises(VAEError) as refused:
        run.resume(run_dir / "last.pth", mnist=tiny, checkpoint_dir=root)
    assert "best_model" in one_line(refused.value)
    (root / "best_model").unlink()
    (root / "best_model.bak").rename(root / "best_model")

    run.resume(run_dir / "last.pth", mnist=tiny, checkpoint_dir=root)
    assert_equals_reference(run_dir, root, reference)


# ---------------------------------------------------------------- resume: finished runs, foreign folders


def test_resume_finished_run_changes_nothing(reference, tmp_path, capsys):
    """Resuming a finished run, from any of its checkpoints, says so and changes nothing."""
    shutil.copytree(reference.parent, tmp_path / "root")
    run_dir = tmp_path / "root" / reference.name
    before = snapshot(tmp_path / "root")
    for name in ["last.pth", "vae_final.pth", "checkpoint_epoch_0002.pth", "best.pth"]:
        train_cli.main(["--resume", str(run_dir / name)])
        assert "Nothing to do" in capsys.readouterr().out, name
    assert snapshot(tmp_path / "root") == before


def test_resume_outside_run_folder_is_refused(stopped, tiny, tmp_path):
    """A checkpoint outside its run folder (a shared copy, the best model) is not resumed into a strange folder."""
    root, run_dir = stopped
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copy(run_dir / "last.pth", shared / "model.pth")
    for path in (shared / "model.pth", checkpoints.best_model_path(root)):
        before = snapshot(path.parent)
        with pytest.raises(VAEError, match="run folder") as refused:
            run.resume(path, mnist=tiny, checkpoint_dir=root)
        one_line(refused.value)
        assert snapshot(path.parent) == before
