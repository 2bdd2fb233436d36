"""The results page is the output of benchmarks/report.py, and its sources say where they come from.

benchmarks/RESULTS.md is regenerated from benchmarks/results/*.json and compared with the committed page; every JSON
names the command that wrote it. The "What number should I expect?" table has one source file, rendered by
vaelib.notebook.tables.expected_numbers_table (the results page and notebook 02): every number it prints is a value
of that file.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vaelib.core.model import VAE, ModelConfig
from vaelib.core.settings import weights_dir
from vaelib.notebook import tables

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
EXPECTED = RESULTS / "expected_numbers.json"
PAGE = ROOT / "benchmarks" / "RESULTS.md"
DECIMAL = re.compile(r"(?<![\w.,])\d[\d,]*\.\d+(?![\w]|\.\d)|(?<![\w.])\d+(?=\s?%)")  # 1,455.5 or 25 %


def report(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "report.py"), *args], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def values(tree) -> set[float]:
    """Every number in a JSON tree."""
    if isinstance(tree, dict):
        return set().union(*map(values, tree.values())) if tree else set()
    if isinstance(tree, list):
        return set().union(*map(values, tree)) if tree else set()
    if isinstance(tree, int | float) and not isinstance(tree, bool):
        return {float(tree)}
    return set()


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_every_result_names_its_command(path):
    result = json.loads(path.read_text())
    assert isinstance(result.get("command"), str) and result["command"], f"{path.name} lacks a 'command'"


def test_the_results_page_is_the_reports_output():
    """Regenerate benchmarks/RESULTS.md from the JSON files; it must equal the committed page (`make results`)."""
    assert PAGE.read_text() == report(), "benchmarks/RESULTS.md is out of date: run `make results` and commit it"


def test_a_missing_result_says_how_to_measure_it(tmp_path):
    for name in ("expected_numbers.json", "evaluate_latent2.json"):
        (tmp_path / name).write_text((RESULTS / name).read_text())
    text = report(str(tmp_path))
    assert "Not measured: run `python benchmarks/beta_models.py`." in text
    assert "What number should I expect?" in text and "| grey | 2 |" in text


def test_the_expected_numbers_table_has_one_source():
    """The default path finds the repository's file; the table has its 11 rows; every decimal number and percentage
    it prints, notes included, is a value of the file (or of the results file it names)."""
    text = tables.expected_numbers_table()
    assert text == tables.expected_numbers_table(EXPECTED)
    source = json.loads(EXPECTED.read_text())
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(source["rows"]) == 12
    allowed = values(source) | values(json.loads((RESULTS / "evaluate_latent2.json").read_text()))
    found = DECIMAL.findall(tables.PLACEHOLDER.sub(" ", text))
    assert "0.25" in found and "25" in found  # the dropout, as a number and as a percentage
    for number in found:
        value = float(number.replace(",", ""))
        decimals = len(number.split(".")[1]) if "." in number else 0
        scaled = allowed | {100 * v for v in allowed} if "." not in number else allowed  # 25 % is 0.25
        assert any(round(v, decimals) == value for v in scaled), f"{number} is not a value of {EXPECTED.name}"


def test_every_row_says_where_it_comes_from():
    """Project rows: a command; not shipped: the commit and the record; shipped: the file exists; published: a
    citation."""
    for row in json.loads(EXPECTED.read_text())["rows"]:
        if row["kind"] == "project":
            assert row["command"].startswith("vae-evaluate"), row["id"]
            shipped = re.search(r"shipped `([\w.]+\.pth)`", row["source"])
            if shipped:
                assert (weights_dir() / shipped.group(1)).is_file(), row["id"]
            else:
                assert re.fullmatch(r"[0-9a-f]{7,40}", row["commit"]) and row["recorded"], row["id"]
        else:
            assert row["kind"] == "published" and row["citation"], row["id"]


def test_the_models_facts_in_the_table_are_vaelibs():
    """The dropout the table names is the model's default; the decoder size the notes compare with the MLP's is the
    2-D model's own."""
    rows = {r["id"]: r for r in json.loads(EXPECTED.read_text())["rows"]}
    assert rows["latent2"]["dropout"] == ModelConfig().dropout
    row = rows["latent2_dropout0"]
    decoder = VAE(ModelConfig(latent_dim=row["latent"])).decoder
    assert row["decoder_parameters"] == sum(p.numel() for p in decoder.parameters())


def test_a_placeholder_names_a_value(tmp_path):
    """{id.key:format} is filled from the rows; a key that is not there fails loudly instead of printing nothing."""
    source = json.loads(EXPECTED.read_text())
    source["notes"] = ["Rows: {latent2.neg_elbo:.1f} and {latent2.bounds.0.se:.2f}."]
    path = tmp_path / "expected_numbers.json"
    path.write_text(json.dumps(source))
    (tmp_path / "evaluate_latent2.json").write_text((RESULTS / "evaluate_latent2.json").read_text())
    row = next(r for r in source["rows"] if r["id"] == "latent2")
    assert f"- Rows: {row['neg_elbo']:.1f} and {row['bounds'][0]['se']:.2f}." in tables.expected_numbers_table(path)
    source["notes"] = ["{latent2.no_such_key}"]
    path.write_text(json.dumps(source))
    with pytest.raises(KeyError):
        tables.expected_numbers_table(path)


def test_the_beta_table_holds_every_shipped_beta_model():
    """One entry per shipped model of the β family (and the 16-D β = 1 model), each scored by vae-evaluate --k 0."""
    result = json.loads((RESULTS / "beta_models.json").read_text())
    shipped = {p.name for p in weights_dir().glob("vae_latent*_beta*.pth")} | {"vae_latent16.pth"}
    assert set(result["models"]) == shipped
    for name, entry in result["models"].items():
        assert entry["command"] == f"vae-evaluate --k 0 --json --checkpoint vaelib/weights/{name}"
        r = entry["result"]
        assert r["test_images"] == 10_000 and r["iwae"] is None and r["latent_dim"] == entry["settings"]["latent_dim"]
        assert r["neg_elbo"] == pytest.approx(r["recon"] + r["kl"])
        ckpt = torch.load(weights_dir() / name, weights_only=True)
        assert ckpt["train_config"]["beta"] == entry["settings"]["beta"]
        assert ckpt["train_config"].get("free_bits", 0) == entry["settings"].get("free_bits", 0)
        assert ckpt["train_config"].get("kl_warmup", 0) == entry["settings"].get("kl_warmup", 0)
