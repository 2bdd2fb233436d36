"""Prose tied to outputs: every measured number a reader is told is one the code printed.

Numbers: every decimal number in the prose of the six notebooks (their markdown cells), the README and the results
page is checked. In a notebook it must appear, as a whole token, among that notebook's stored outputs; in the README
and the results page it must equal, at the decimals it is written with, a number in benchmarks/results/*.json. Any
other number needs an entry in tests/prose_sources.json that names the file and key it comes from (a citation, a
setting), which this test reads and compares. Not prose: code spans, LaTeX, link targets, and the further-reading
lists (titles and years of papers).

Claims: a sentence of notebook prose that compares measured numbers (a decimal number, not a setting like β = 0.5,
and a word such as lower, best, more or grows) must come right after a code cell that asserts what it says.
"""

import importlib
import json
import re
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DOCUMENTS = [ROOT / "README.md", ROOT / "benchmarks" / "RESULTS.md"]
SOURCES = ROOT / "tests" / "prose_sources.json"
DECIMAL = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})*\.\d+(?![\w]|\.\d)|(?<![\w.,])\d+\.\d+(?![\w]|\.\d)")
NOT_PROSE = [
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"\$\$.*?\$\$", re.S),  # display maths
    re.compile(r"\$[^$\n]*\$"),  # inline maths
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<[^>\n]*>"),  # html tags
    re.compile(r"^#+ Further reading.*?(?=^#+ |\Z)", re.S | re.M),  # the reading lists: titles, years, pages
]
SETTING = re.compile(r"[=≈]\s*[−-]?\d[\d.,]*")
COMPARISON = re.compile(
    r"\b(lower|higher|lowest|highest|best|worst|better|worse|more|fewer|less|larger|smaller|largest|smallest|"
    r"grows|shrinks|sharper|blurrier|beats|exceeds|ranks?)\b",
    re.I,
)


def prose(markdown: str) -> str:
    """Markdown with what is not prose blanked out."""
    for pattern in NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def numbers(text: str) -> list[str]:
    """The decimal numbers of a text, as written (thousands separators dropped): '1,455.5' -> '1455.5'."""
    return [match.replace(",", "") for match in DECIMAL.findall(text)]


def output_text(nb) -> str:
    """Everything a notebook's code cells printed or displayed, as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts += [out.data[kind] for kind in ("text/plain", "text/markdown", "text/html") if kind in out.data]
    return "\n".join(parts)


def source_value(entry: dict):
    """The value an allowlist entry points at: a key path in a JSON or TOML file ("rows.3.bound"), or, for file
    "python", an attribute path ("vaelib.core.model.ModelConfig.dropout": a dataclass field's default)."""
    if entry["file"] == "python":
        parts = entry["key"].split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                value = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for name in parts[cut:]:
                value = getattr(value, name)
            return value
        raise LookupError(entry["key"])
    path = ROOT / entry["file"]
    value = tomllib.loads(path.read_text()) if path.suffix == ".toml" else json.loads(path.read_text())
    for part in entry["key"].split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def matches(number: str, value) -> bool:
    """The written number is the value at the decimals it is written with, or appears in the value's text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        decimals = len(number.split(".")[1])
        return round(float(value), decimals) == float(number) or f"{value:.{decimals}f}" == number
    return number in str(value)


def allowlist() -> dict[tuple[str, str], dict]:
    entries = json.loads(SOURCES.read_text())
    return {(entry["where"], entry["number"]): entry for entry in entries}


def json_numbers() -> list[float]:
    """Every number in benchmarks/results/*.json: what the README and the results page may quote."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append(float(value))

    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        walk(json.loads(path.read_text()))
    return found


def unsupported_in_notebook(nb, name: str, allowed: dict) -> list[str]:
    tokens = set(numbers(output_text(nb)))
    written = [n for cell in nb.cells if cell.cell_type == "markdown" for n in numbers(prose(cell.source))]
    return sorted({n for n in written if n not in tokens and (name, n) not in allowed})


def unsupported_in_document(text: str, name: str, allowed: dict, measured: list[float]) -> list[str]:
    return sorted(
        {n for n in numbers(prose(text)) if (name, n) not in allowed and not any(matches(n, v) for v in measured)}
    )


def claims_without_assert(nb) -> list[str]:
    """Sentences that compare measured numbers, in a markdown cell whose code cell above asserts nothing."""
    found, above = [], ""
    for cell in nb.cells:
        if cell.cell_type == "code":
            above = cell.source
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", prose(cell.source)):
            measured = numbers(SETTING.sub(" ", sentence))  # β = 0.5 names a model; 159.71 measures one
            if measured and COMPARISON.search(sentence) and "assert" not in above:
                found.append(" ".join(sentence.split())[:120])
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_number_in_a_notebook_was_printed(path):
    missing = unsupported_in_notebook(nbformat.read(path, as_version=4), path.name, allowlist())
    assert not missing, f"{path.name}: numbers in prose that no output shows: {missing}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_number_in_the_readme_and_results_page_was_measured(path):
    missing = unsupported_in_document(path.read_text(), path.name, allowlist(), json_numbers())
    assert not missing, f"{path.name}: numbers that no results JSON and no allowlist entry holds: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_compared_number_is_asserted_above(path):
    found = claims_without_assert(nbformat.read(path, as_version=4))
    assert not found, f"{path.name}: comparisons of numbers with no assert in the code cell above: {found}"


def test_every_allowlist_entry_holds_its_number():
    """Each entry names the document and the number, and the file and key it comes from; the value there matches."""
    for entry in json.loads(SOURCES.read_text()):
        assert set(entry) >= {"where", "number", "file", "key", "why"}, entry
        assert matches(entry["number"], source_value(entry)), entry


def test_a_planted_number_is_caught():
    """A wrong number typed into a notebook or the README fails the check; a number the notebook printed passes."""
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    before = set(unsupported_in_notebook(nb, NOTEBOOKS[1].name, allowlist()))
    printed = numbers(output_text(nb))[0]
    nb.cells.append(nbformat.v4.new_markdown_cell(f"The loss fell to {printed}, then to 123.457 nats."))
    assert set(unsupported_in_notebook(nb, NOTEBOOKS[1].name, allowlist())) - before == {"123.457"}
    readme = (ROOT / "README.md").read_text()
    before = set(unsupported_in_document(readme, "README.md", allowlist(), json_numbers()))
    planted = readme + "\nOur model scores 987.654 nats.\n"
    assert set(unsupported_in_document(planted, "README.md", allowlist(), json_numbers())) - before == {"987.654"}


def test_a_comparison_without_an_assert_is_caught():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("print(159.71, 160.21)"),
        nbformat.v4.new_markdown_cell("β = 0.5 ends lower, 159.71 against 160.21."),
        nbformat.v4.new_code_cell("assert 159.71 < 160.21"),
        nbformat.v4.new_markdown_cell("So β = 0.5 ends lowest: 159.71 < 160.21."),
    ]
    assert claims_without_assert(nb) == ["β = 0.5 ends lower, 159.71 against 160.21."]


def test_what_counts_as_prose():
    text = "A `lr=0.001` span, $\\sigma = 0.5$, [link](https://x.org/v1.5), 3.25 nats.\n## Further reading\n- Paper 1.2"
    assert numbers(prose(text)) == ["3.25"]
    assert numbers("1,455.5 and 44.6 % and v2 and 1.2.3") == ["1455.5", "44.6"]
