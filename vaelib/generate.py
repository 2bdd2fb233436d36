"""`python -m vaelib.generate`: the same command as `vae-generate` (its code is vaelib/commands/generate.py)."""

from vaelib.commands.generate import entry

if __name__ == "__main__":
    entry()
