"""`python -m vaelib.evaluate`: the same command as `vae-evaluate` (its code is vaelib/commands/evaluate.py)."""

from vaelib.commands.evaluate import entry

if __name__ == "__main__":
    entry()
