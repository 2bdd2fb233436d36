"""Every vaelib name, module path and command that the documentation names exists (issue 16, item 8).

Read: the notebooks' markdown cells, README.md and vaelib/weights/README.md. Found there, in code spans or plain text:
- dotted names `vaelib.x.y`: the longest importable prefix is imported, the rest looked up with getattr;
- paths `vaelib/.../file.py` (and other files and folders under vaelib/): they exist in the repository;
- commands `vae-...`: each is a script in pyproject.toml's [project.scripts];
- `python -m vaelib.x`: the module exists and runs as a script (an `if __name__ == "__main__":` block or a
  __main__.py).
A planted wrong name of each kind fails (test_a_wrong_name_is_caught).
"""

import importlib
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", ROOT / "vaelib" / "weights" / "README.md"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

MODULE_RUN = re.compile(r"python3? -m (vaelib(?:\.\w+)+)")
DOTTED = re.compile(r"(?<![\w/.-])vaelib(?:\.[A-Za-z_]\w*)+")
PATH = re.compile(r"(?<![\w/.-])vaelib/[\w./-]*")
COMMAND = re.compile(r"(?<![\w/.-])vae-[a-z][a-z_-]*[a-z]")
PLACEHOLDERS = {"FILE", "NAME", "DIR", "PATH", "NN", "N"}  # vaelib/weights/FILE: a path that stands for any
HISTORY = {  # names a document gives as history, on purpose: how a shipped file was made with an older vaelib
    "vaelib/weights/README.md": {
        "vaelib.checkpoint.export_model",  # exported the shipped models until 0.3 (now tools/export_model.py)
        "python -m vaelib.classifier",  # trained classifier.pth in vaelib 0.1 (now python -m vaelib.train_classifier)
    },
}


def not_commands() -> set[str]:
    """Words that look like commands and are not: the conda environment's name (environment.yml)."""
    text = (ROOT / "environment.yml").read_text()
    return set(re.findall(r"^name:\s*(\S+)", text, re.M))


def scripts() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


def markdown(path: Path) -> str:
    """A document's text, or a notebook's markdown cells."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return path.read_text()


def resolve(name: str) -> bool:
    """Import the longest importable prefix of a dotted name, then getattr the rest."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                value = getattr(value, attribute)
        except AttributeError:
            return False
        return True
    return False


def path_exists(path: str) -> bool:
    path = path.rstrip(".,;:")
    if any(Path(part).stem in PLACEHOLDERS for part in path.split("/")):
        return True
    return (ROOT / path).exists()


def runs_as_module(name: str) -> bool:
    """`python -m name` works: the module exists and has a __main__ block (or is a package with __main__.py)."""
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:
        return False
    if spec is None or spec.origin is None:
        return False
    if spec.submodule_search_locations:  # a package: python -m runs its __main__.py
        return any((Path(p) / "__main__.py").exists() for p in spec.submodule_search_locations)
    return re.search(r"""^if __name__ == ["']__main__["']:""", Path(spec.origin).read_text(), re.M) is not None


def unresolved(text: str) -> list[str]:
    """The names, paths, commands and `python -m` forms of a text that do not exist, each once."""
    bad = []
    modules = MODULE_RUN.findall(text)
    bad += [f"python -m {name}" for name in modules if not runs_as_module(name)]
    bad += [name for name in DOTTED.findall(text) if name not in modules and not resolve(name)]
    bad += [path for path in PATH.findall(text) if not path_exists(path)]
    known = scripts() | not_commands()
    bad += [command for command in COMMAND.findall(text) if command not in known]
    return sorted(set(bad))


@pytest.mark.parametrize("path", DOCUMENTS + NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_name_in_the_documentation_exists(path):
    bad = set(unresolved(markdown(path))) - HISTORY.get(path.relative_to(ROOT).as_posix(), set())
    assert not bad, f"{path.relative_to(ROOT)} names what does not exist: {sorted(bad)}"


def test_history_is_history():
    """Each name allowed as history is still in its document and really gone from vaelib (else drop the entry)."""
    for document, names in HISTORY.items():
        text = markdown(ROOT / document)
        for name in names:
            assert name in text, f"{document} no longer names {name}: drop it from HISTORY"
        assert set(unresolved(text)) >= names, f"{document}: some of {names} exist again: drop them from HISTORY"


def test_a_wrong_name_is_caught():
    """One wrong name of each kind, planted beside right ones, is found; the right ones pass."""
    right = (
        "Use `vaelib.load_mnist()`, vaelib.core.measures.active_units and `vaelib.runs.run.fit`; the step is in "
        "`vaelib/core/model.py` and the shipped models in vaelib/weights/; run `vae-train --epochs 5` or "
        "`python -m vaelib.evaluate`; a model stands for `vaelib/weights/FILE.pth`."
    )
    assert unresolved(right) == []
    wrong = (
        "`vaelib.metrics.active_units`, vaelib.core.measures.no_such_measure, vaelib/trainer.py, `vae-sample`, "
        "and `python -m vaelib.plots`."
    )
    assert unresolved(right + " " + wrong) == sorted(
        [
            "python -m vaelib.plots",
            "vae-sample",
            "vaelib.core.measures.no_such_measure",
            "vaelib.metrics.active_units",
            "vaelib/trainer.py",
        ]
    )


def test_what_counts_as_a_name():
    """Trailing punctuation and call parentheses are not part of a name; a file name is not a command."""
    text = "See vaelib.core.settings. Then vaelib.pretrained_path(2), vae_latent2.pth and `vae-generate`."
    assert DOTTED.findall(text) == ["vaelib.core.settings", "vaelib.pretrained_path"]
    assert COMMAND.findall(text) == ["vae-generate"]
    assert "vae-mnist" in not_commands()
