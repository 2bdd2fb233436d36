"""The run shell: a training run with its folder, written so that Ctrl-C or a crash never loses or corrupts it.

- run.py: fit and resume, the epoch loop with validation, the commit-point order of a run's files, the best model
- folder.py: run folders, config.json, metrics.csv
- storage.py: checkpoints written atomically and read back (older versions' too); the best model under a lock
- atomic.py: files written so a reader sees the old one or the new one, never half of one
- images.py: the pictures a run or a command writes: PNG mosaics of digits, the loss curves
"""

from .run import TrainResult, fit, resume

__all__ = ["TrainResult", "fit", "resume"]
