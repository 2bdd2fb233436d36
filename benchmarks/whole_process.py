"""Whole processes: `vae-train --epochs 1` against the seed-style reference (seed_reference.py), start to exit.

    VAELIB_DATA_DIR=/path/to/data python benchmarks/whole_process.py   # writes benchmarks/results/whole_process.json

Each run is a fresh process with its own temporary checkpoint folder, so both start from nothing and both write
(and offer) a first best model. The two take turns (A B, B A, ...) for --pairs pairs; the result is the median
over pairs of reference seconds / vaelib seconds, so a change in the load of a shared machine hits both alike.
Beside the wall time of each process the JSON keeps its CPU time, the 1-minute load before and after, the files
it wrote and the seconds its epoch took (train + validation, from its metrics.csv): wall minus those is the fixed
cost of the run (imports, data loading, warm-up outside the epoch, writing files, exit).

vaelib runs as `python -m vaelib.train` from this checkout (PYTHONPATH set to it), the same code as `vae-train`.
With `--main DIR` (a checkout of another commit, e.g. `git worktree add DIR main`) a third process, that commit's
`python -m vaelib.train`, takes its turn in every round too, so this checkout and that one are measured in the
same session, under the same load. Not part of CI: on a shared machine the numbers move a lot; run it on a quiet
one.
"""

import argparse
import csv
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine
import torch

ROOT = Path(__file__).resolve().parent.parent


def commands(epochs: int, main_root: Path | None) -> dict[str, list[str]]:
    """The command lines; {ckpt} is replaced by each run's temporary folder. "main" runs from main_root."""
    train = [sys.executable, "-m", "vaelib.train", "--epochs", str(epochs), "--checkpoint-dir", "{ckpt}"]
    return {
        "vaelib": train,
        **({"main": train} if main_root else {}),
        "reference": [
            sys.executable,
            str(Path(__file__).with_name("seed_reference.py")),
            "--epochs",
            str(epochs),
            "--checkpoint-dir",
            "{ckpt}",
        ],
    }


def run_once(cmd: list[str], env: dict, root: Path = ROOT) -> dict:
    """Run one command in a fresh temporary checkpoint folder; wall and CPU seconds, load, files, epoch seconds."""
    with tempfile.TemporaryDirectory(prefix="whole_process_") as ckpt:
        argv = [ckpt if a == "{ckpt}" else a for a in cmd]
        load, before = os.getloadavg()[0], resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))}
        proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode:
            sys.exit(f"{shlex.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        files = sorted(str(p.relative_to(ckpt)) for p in Path(ckpt).rglob("*") if p.is_file())
        metrics = next(Path(ckpt).glob("run_*/metrics.csv"))
        with open(metrics, newline="") as fh:
            epoch_s = sum(float(row["seconds"]) for row in csv.DictReader(fh))
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "epoch_s": epoch_s,
        "outside_epoch_s": wall - epoch_s,
        "load_1min_before": load,
        "load_1min_after": os.getloadavg()[0],
        "files": [f.split("/", 1)[1] if f.startswith("run_") else f for f in files],
    }


def ratios_to(runs: dict, slower: str, faster: str = "vaelib") -> list[float]:
    """Per round: wall seconds of `slower` / wall seconds of `faster`."""
    return [s["wall_s"] / f["wall_s"] for s, f in zip(runs[slower], runs[faster], strict=False)]


def summary(args, info: dict, cmds: dict, runs: dict) -> dict:
    """The result so far: per-round ratios, their median, medians of each side, every run (no paths of this machine)."""
    ratios = ratios_to(runs, "reference")
    keys = ("wall_s", "cpu_s", "epoch_s", "outside_epoch_s")
    median = {name: {k: statistics.median(r[k] for r in rs) for k in keys} for name, rs in runs.items()}
    shown = {name: shlex.join(["python", *c[1:]]).replace(str(ROOT) + "/", "") for name, c in cmds.items()}
    result = {
        "command": shlex.join(["python", "benchmarks/whole_process.py", *sys.argv[1:]]),
        "machine": {**info, "load_average_1min_end": os.getloadavg()[0]},
        "commands": shown,
        "epochs": args.epochs,
        "pairs": len(ratios),
        "pairs_asked": args.pairs,
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
        "median": median,
        "runs": runs,
        "note": "ratio = reference wall seconds / vaelib wall seconds per alternating round; epoch_s from metrics.csv",
    }
    if "main" in runs:
        main_ratios = ratios_to(runs, "reference", "main")
        result["main"] = {
            "commit": args.main_commit,
            "ratio_median": statistics.median(main_ratios),
            "ratios": main_ratios,
            "note": "the same command from a checkout of main, in the same rounds: reference / main",
        }
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=3, help="alternating pairs of runs (default 3, at least 3)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--data-dir", help="MNIST root for both (default: $VAELIB_DATA_DIR)")
    p.add_argument("--output", default=str(machine.RESULTS / "whole_process.json"))
    p.add_argument("--main", type=Path, help="a checkout of another commit to time in the same rounds")
    args = p.parse_args()
    args.main_commit = None
    if args.main:
        args.main_commit = subprocess.run(
            ["git", "-C", str(args.main), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    if args.pairs < 3:
        p.error("--pairs must be at least 3")
    env = dict(os.environ)
    if args.data_dir:
        env["VAELIB_DATA_DIR"] = args.data_dir
    if not env.get("VAELIB_DATA_DIR"):
        p.error("set VAELIB_DATA_DIR or pass --data-dir (the reference needs the MNIST root)")

    info = machine.describe(torch.device("cpu"))
    cmds = commands(args.epochs, args.main)
    runs = {name: [] for name in cmds}
    for pair in range(args.pairs):
        for name in list(cmds) if pair % 2 == 0 else list(cmds)[::-1]:
            out = run_once(cmds[name], env, args.main if name == "main" else ROOT)
            runs[name].append(out)
            print(
                f"pair {pair + 1}/{args.pairs} {name:>9}: {out['wall_s']:6.2f} s wall, {out['cpu_s']:6.2f} s CPU, "
                f"epoch {out['epoch_s']:6.2f} s, outside it {out['outside_epoch_s']:5.2f} s, "
                f"load {out['load_1min_before']:.2f} -> {out['load_1min_after']:.2f}",
                flush=True,
            )
        result = summary(args, info, cmds, runs)
        machine.write_json(result, args.output)  # after every pair: a run cut short still leaves its pairs
    ratios, median = result["ratios"], result["median"]
    print(
        f"vaelib {median['vaelib']['wall_s']:.2f} s, reference {median['reference']['wall_s']:.2f} s (medians); "
        f"ratio median {result['ratio_median']:.2f}x over {args.pairs} pairs: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (load {info['load_average_1min']:.2f} -> {result['machine']['load_average_1min_end']:.2f})"
    )
    if "main" in result:
        main = result["main"]
        print(f"  main ({main['commit']}): ratio median {main['ratio_median']:.2f}x: {main['ratios']}")
    for name in runs:
        m = median[name]
        print(f"  {name:>9}: epoch {m['epoch_s']:.2f} s + outside the epoch {m['outside_epoch_s']:.2f} s (medians)")


if __name__ == "__main__":
    main()
