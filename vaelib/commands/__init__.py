"""The four commands, each a thin main() that parses flags, calls the core or the run shell and prints:
vae-train (train.py), vae-generate (generate.py), vae-evaluate (evaluate.py), vae-classifier (train_classifier.py).
cli.py holds what they share: flags with two spellings, number checks, one-line errors."""
