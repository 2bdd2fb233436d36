"""nbval bookkeeping for the teaching notebooks.

- Notebook 03 trains: its runs and best_model/ go to a temporary VAELIB_CHECKPOINT_DIR, never to checkpoints/.
- Cells whose output nbval does not compare (tag nbval-ignore-output) are reported as "unchecked", not "passed",
  so the summary line reads e.g. "31 passed, 9 unchecked" and shows how much of the output is compared.
"""

import os
import tempfile

import pytest


def pytest_configure(config):
    if not os.environ.get("VAELIB_CHECKPOINT_DIR"):
        os.environ["VAELIB_CHECKPOINT_DIR"] = tempfile.mkdtemp(prefix="vaelib-nbval-")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    options = getattr(item, "options", None)  # nbval cells carry their tag options
    if options is not None and item.cell.outputs:
        report.nbval_compared = bool(options.get("check"))


def pytest_report_teststatus(report, config):
    if report.when == "call" and report.passed and getattr(report, "nbval_compared", True) is False:
        return "unchecked", "u", "PASSED (output not compared)"
