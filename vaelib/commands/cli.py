"""What the four commands share: a parser whose mistakes are one line, number checks, and error printing.

Every multi-word flag has two spellings, `--batch_size` and `--batch-size`; `--help` shows the one given
first (the original design's underscores where it had the flag).
"""

import argparse
import copy
import functools
import gc
import sys
from pathlib import Path

from vaelib.core.errors import VAEError


def cli_errors(main):
    """Decorate a command's main(): print a VAEError as one line on stderr and exit with status 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except VAEError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper


def console(main):
    """The entry of a command's console script and of its `python -m` form; tests call main() itself.

    gc.freeze() moves every object alive so far into a generation the garbage collector never scans again: once
    after the imports (torch's several hundred thousand objects need no cycle collection while training) and once
    before the interpreter exits, whose collection would otherwise scan them all again, about a second of CPU per
    run (benchmarks/whole_process.py).
    """

    @functools.wraps(main)
    def entry():
        gc.freeze()
        try:
            return main()
        finally:
            gc.freeze()

    return entry


def positive(kind, zero_ok: bool = False):
    """An argparse type that accepts only values > 0 (or >= 0) of `kind` (int or float), with a clear message."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not (value >= 0 if zero_ok else value > 0):
            raise argparse.ArgumentTypeError(f"must be {'at least' if zero_ok else 'greater than'} 0, got {text}")
        return value

    return parse


def dropout_rate(text: str) -> float:
    """An argparse type for a dropout probability: a float from 0 (no dropout) up to, not including, 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a float, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text}")
    return value


def other_spelling(flag: str) -> str:
    """--batch_size <-> --batch-size (a one-word flag is its own other spelling)."""
    name = flag[2:]
    return "--" + (name.replace("_", "-") if "_" in name else name.replace("-", "_"))


class _FirstSpelling(argparse.HelpFormatter):
    """--help lists each flag once, under its first spelling."""

    def _format_action_invocation(self, action):
        spellings = action.option_strings
        shown = [s for i, s in enumerate(spellings) if not (s.startswith("--") and other_spelling(s) in spellings[:i])]
        if shown != spellings:
            action = copy.copy(action)
            action.option_strings = shown
        return super()._format_action_invocation(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with both spellings of multi-word flags, and one line on stderr (exit status 2) for a bad flag."""

    def __init__(self, **kwargs):
        epilog = "Multi-word flags may be written with - or _ (--batch-size or --batch_size)."
        super().__init__(formatter_class=_FirstSpelling, allow_abbrev=False, epilog=epilog, **kwargs)

    def add_argument(self, *names, **kwargs):
        spellings = list(names)
        for name in names:
            if name.startswith("--") and other_spelling(name) not in spellings:
                spellings.append(other_spelling(name))
        return super().add_argument(*spellings, **kwargs)

    def add_device_and_data(self, data_use: str = "") -> None:
        """The --device and --data-dir flags every command shares, with the same help everywhere."""
        self.add_argument(
            "--device", default="auto", help="auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:N or mps"
        )
        self.add_argument(
            "--data-dir", help=f"MNIST root{data_use}, holding MNIST/raw/ (default: $VAELIB_DATA_DIR or ./data)"
        )

    def add_quick(self, train_images: int, epochs: int) -> None:
        """The --quick flag of the commands that train: a smoke test on a few images."""
        self.add_argument(
            "--quick",
            action="store_true",
            help=f"smoke test: {train_images:,} training images, {epochs} epoch{'s' * (epochs != 1)}; "
            "explicit flags win (also: VAELIB_QUICK=1)",
        )

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def explicit_flags(args, names) -> dict:
    """The flags among `names` that were given on the command line (their defaults are None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def writable_file(path, flag: str) -> Path:
    """Fail early, before any work, if `path` cannot be written as a file."""
    path = Path(path)
    if path.is_dir():
        raise VAEError(f"{flag} {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise VAEError(f"{flag} {path}: folder {path.parent} does not exist; create it or choose another path")
    return path
