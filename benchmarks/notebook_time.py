"""Wall-clock time of the notebook part of CI: all the notebooks re-executed and compared by nbval in quick mode.

python benchmarks/notebook_time.py          # writes benchmarks/results/notebooks.json
"""

import argparse
import os
import subprocess
import sys
import time

import machine
import torch

COMMAND = [sys.executable, "-m", "pytest", "-q", "notebooks"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output", default=str(machine.RESULTS / "notebooks.json"))
    args = p.parse_args()
    info = machine.describe(torch.device("cpu"))
    start = time.perf_counter()
    done = subprocess.run(COMMAND, env={**os.environ, "VAELIB_QUICK": "1"}, cwd=machine.RESULTS.parent.parent)
    seconds = time.perf_counter() - start
    print(f"notebooks in quick mode: {seconds:.0f} s (pytest exit {done.returncode})")
    result = {
        "machine": info,
        "seconds": seconds,
        "passed": done.returncode == 0,
        "timed_command": "VAELIB_QUICK=1 python -m pytest notebooks",
    }
    machine.write_json(result, args.output)


if __name__ == "__main__":
    main()
