"""User-facing errors: one line that says what went wrong and what to do, never a traceback."""

import argparse
import functools
import sys


class VAEError(Exception):
    """An expected mistake (bad flag, missing file, ...) whose message tells the learner how to fix it."""

    def _render_traceback_(self):
        """In Jupyter, show the one-line message instead of a traceback."""
        return [f"VAEError: {self}"]


def cli_errors(main):
    """Decorate a CLI entry point: print a VAEError as one line on stderr and exit with status 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except VAEError as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(2) from None

    return wrapper


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


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag gives one line on stderr (no usage dump) and exit status 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")
