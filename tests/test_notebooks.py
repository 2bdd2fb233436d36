"""The teaching notebooks: paired .ipynb/.py files in step, a kernel JupyterLab can start, and enough nbval coverage.

nbval itself (pytest --nbval, see pyproject.toml) re-executes the notebooks; these tests check the files around it.
"""

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("*.ipynb"))
IGNORED = {"nbval-ignore-output", "nbval-skip"}  # tags under which nbval does not compare a cell's output
IGNORE_COMMENTS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP"}


def cell_inputs(nb) -> list[tuple[str, str, tuple]]:
    """What a reader edits: each cell's type, source and tags (the tags steer nbval)."""
    return [(cell.cell_type, cell.source.strip(), tuple(cell.metadata.get("tags", ()))) for cell in nb.cells]


def drift(ipynb, script) -> list[str]:
    """The differences between the cell inputs of a notebook and its paired script, as readable lines."""
    left, right = cell_inputs(ipynb), cell_inputs(script)
    problems = [
        f"cell {i}: ipynb {a!r:.80} != py {b!r:.80}"
        for i, (a, b) in enumerate(zip(left, right, strict=False))
        if a != b
    ]
    if len(left) != len(right):
        problems.append(f"{len(left)} cells in the .ipynb, {len(right)} in the .py")
    return problems


def compared(cell) -> bool:
    """True when nbval (strict mode) compares this code cell's output with the stored one."""
    comments = {line.strip().lstrip("#").strip() for line in cell.source.splitlines() if line.strip().startswith("#")}
    return not (set(cell.metadata.get("tags", ())) & IGNORED or comments & IGNORE_COMMENTS)


def read(path: Path):
    return nbformat.read(path, as_version=4)


def test_the_notebooks_are_there():
    names = [p.stem for p in PAIRS]
    for name in (
        "01_data",
        "02_model",
        "03_training",
        "04_generation",
        "05_latent_interpolation",
        "06_beta_and_autoencoders",
    ):
        assert name in names


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_pair_in_sync(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{script.name} is missing: run `jupytext --sync {path}`"
    problems = drift(read(path), jupytext.read(script))
    assert not problems, f"{path.name} and {script.name} have drifted (run `jupytext --sync`):\n" + "\n".join(problems)


def test_drift_is_detected():
    """The pairing check can fail: an edited cell, a tag and an extra cell each show up."""
    nb = read(PAIRS[0])
    twin = read(PAIRS[0])
    assert drift(nb, twin) == []
    code = next(i for i, cell in enumerate(twin.cells) if cell.cell_type == "code")
    twin.cells[code].source += "\nprint('edited')"
    assert len(drift(nb, twin)) == 1
    twin = read(PAIRS[0])
    twin.cells[code].metadata["tags"] = ["nbval-ignore-output"]
    assert len(drift(nb, twin)) == 1
    twin.cells.append(nbformat.v4.new_markdown_cell("extra"))
    assert len(drift(nb, twin)) == 2


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_kernelspec_is_python3(path):
    """Without it JupyterLab asks the learner to select a kernel."""
    kernelspec = read(path).metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3" and kernelspec.get("language") == "python"


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_committed_outputs_are_clean(path):
    """Every code cell ran, none raised, none wrote to stderr (warnings), and the notebook uses vaelib, not sys.path."""
    code = [cell for cell in read(path).cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count is not None for cell in code), "execute the notebook before committing"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"error output in {path.name}: {cell.source[:60]!r}"
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"stderr in {path.name}: {out.text[:200]!r}"
            )
    sources = "\n".join(cell.source for cell in code)
    assert "import vaelib" in sources and "sys.path" not in sources


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_teaching_structure(path):
    text = "\n".join(cell.source for cell in read(path).cells if cell.cell_type == "markdown")
    for heading in ("What you will learn", "What you need", "Recap", "Exercises", "Further reading"):
        assert heading in text, f"{path.name} lacks '{heading}'"


def exercises_and_solutions(nb) -> tuple[list[int], list[int]]:
    """The numbers of the exercises listed under "## Exercises" and of the "### Solution N" sections."""
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    listed = text.split("## Exercises", 1)[-1].split("### Solution", 1)[0]
    exercises = [int(n) for n in re.findall(r"^(\d+)\. ", listed, re.M)]
    return exercises, [int(n) for n in re.findall(r"^### Solution (\d+)", text, re.M)]


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_every_exercise_has_a_solution(path):
    """Each numbered exercise has a "### Solution N" section, in order, followed by code that nbval runs."""
    nb = read(path)
    exercises, solutions = exercises_and_solutions(nb)
    assert exercises and solutions == exercises, f"{path.name}: exercises {exercises}, solutions {solutions}"
    for n in solutions:
        start = next(i for i, cell in enumerate(nb.cells) if f"### Solution {n}" in cell.source)
        assert any(cell.cell_type == "code" for cell in nb.cells[start + 1 : start + 4]), f"solution {n} has no code"


def test_missing_solution_is_detected():
    nb = read(PAIRS[-1])
    last = max(i for i, cell in enumerate(nb.cells) if "### Solution" in cell.source)
    nb.cells[last].source = nb.cells[last].source.replace("### Solution", "### Answer")
    exercises, solutions = exercises_and_solutions(nb)
    assert solutions != exercises


def test_nbval_compares_at_least_half_the_cells_with_output():
    with_output = [(p.stem, cell) for p in PAIRS for cell in read(p).cells if cell.cell_type == "code" and cell.outputs]
    checked = [name for name, cell in with_output if compared(cell)]
    assert 2 * len(checked) >= len(with_output), (
        f"nbval compares only {len(checked)} of {len(with_output)} cells with output"
    )
    for path in PAIRS:
        assert path.stem in checked, f"nbval compares no output at all in {path.name}"
