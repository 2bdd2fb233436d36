"""`python -m vaelib.train`: the same command as `vae-train` (its code is vaelib/commands/train.py)."""

from vaelib.commands.train import entry

if __name__ == "__main__":
    entry()
