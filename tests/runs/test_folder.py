"""Run folders: unique names, config.json, and metrics.csv written and read back."""

import json
from datetime import datetime

import pytest

from vaelib.core.errors import VAEError
from vaelib.runs import folder


def test_run_folders_never_share_a_name(tmp_path, monkeypatch):
    """Runs started in the same second get run_<time>, then _2, _3, ...; each folder is new and empty."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2024, 5, 6, 7, 8, 9)

    monkeypatch.setattr(folder, "datetime", Frozen)
    made = [folder.new_run_dir(tmp_path / "ck") for _ in range(3)]
    assert [p.name for p in made] == ["run_20240506_070809", "run_20240506_070809_2", "run_20240506_070809_3"]
    assert all(p.parent == tmp_path / "ck" and p.is_dir() and not any(p.iterdir()) for p in made)


def test_uncreatable_root_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(VAEError, match="pick a writable --checkpoint-dir") as refused:
        folder.new_run_dir(tmp_path / "file" / "ck")
    assert "\n" not in str(refused.value)


def test_metrics_round_trip(tmp_path):
    """Rows -> metrics.csv (only the documented columns, in their order) -> the same numbers; epoch as int."""
    rows = [{field: 0.1 * i + j for j, field in enumerate(folder.METRIC_FIELDS)} for i in range(3)]
    for i, row in enumerate(rows, 1):
        row.update(epoch=i, extra="not a column")
    folder.write_metrics(rows, tmp_path)
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0]
    assert header == ",".join(folder.METRIC_FIELDS)
    assert folder.METRIC_FIELDS[1:5] == ("train_objective", "train_neg_elbo", "train_recon", "train_kl")
    back = folder.read_metrics(tmp_path)
    assert back == [{k: row[k] for k in folder.METRIC_FIELDS} for row in rows]
    assert [type(row["epoch"]) for row in back] == [int] * 3
    folder.write_metrics(rows[:1], tmp_path)  # rewritten whole: a resumed run never duplicates an epoch
    assert [row["epoch"] for row in folder.read_metrics(tmp_path)] == [1]


def test_config_json(tmp_path):
    folder.write_config({"train": {"epochs": 3}, "device": "cpu"}, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {"train": {"epochs": 3}, "device": "cpu"}
