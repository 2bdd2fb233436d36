"""`python -m vaelib.train_classifier`: the same command as `vae-classifier` (vaelib/commands/train_classifier.py)."""

from vaelib.commands.train_classifier import entry

if __name__ == "__main__":
    entry()
