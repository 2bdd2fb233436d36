"""The package's layers: the core a learner reads stands apart from the shell around it.

core (vaelib/core/) imports only torch, tqdm and the standard library (and torchvision, to download MNIST); the
run shell (vaelib/runs/) builds on the core; the commands (vaelib/commands/) and the notebook helpers
(vaelib/notebook/) build on both and not on each other; the `python -m` launchers at the top call the commands.
Nothing imports a layer above its own, and no import cycle exists.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vaelib"
LAYERS = {"core": 0, "runs": 1, "notebook": 2, "commands": 2, "launchers": 3}
CORE_THIRD_PARTY = {"torch", "tqdm", "torchvision"}  # torchvision only inside data._download


def layer(module: str) -> str:
    """The layer of a vaelib module: its subpackage, or "core" for the package root, "launchers" for its scripts."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return parts[1]
    return "core" if module == "vaelib" else "launchers"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    """What `path` imports, as dotted names (`from a import b` gives a.b), relative imports made absolute; inside
    functions too, so a lazy import counts."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            stem = ".".join(part for part in (base, node.module) if part)
            found |= {f"{stem}.{alias.name}" for alias in node.names}
    return found


def resolve(name: str, known: set[str]) -> str:
    """`vaelib.core.model.VAE` -> `vaelib.core.model`: the module an imported name belongs to."""
    return name if name in known else name.rsplit(".", 1)[0]


def graph() -> dict[str, set[str]]:
    """Every vaelib module and the vaelib modules it imports."""
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(path) for path in paths}
    return {
        module_name(path): {resolve(name, known) for name in imports_of(path) if name.startswith("vaelib")}
        for path in paths
    }


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Imports that reach a higher layer, or sideways between the commands and the notebook helpers."""
    found = []
    for source, targets in edges.items():
        for target in targets:
            a, b = layer(source), layer(target)
            if LAYERS[b] > LAYERS[a] or (LAYERS[b] == LAYERS[a] and a != b):
                found.append(f"{source} ({a}) imports {target} ({b})")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles among vaelib modules (a package importing its own submodules, or a submodule its package's
    __init__, is not one: Python runs the __init__ first)."""
    nexts = {s: {t for t in ts if not t.startswith(s + ".") and not s.startswith(t + ".")} for s, ts in edges.items()}
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(nexts.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(nexts):
        if node not in state:
            visit(node, [node])
    return found


def test_nothing_imports_a_layer_above_its_own():
    assert violations(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_core_imports_only_torch_tqdm_and_the_standard_library():
    """(and torchvision, inside the function that downloads MNIST: the fresh-interpreter test below keeps it lazy)"""
    outside = set()
    for path in (PACKAGE / "core").glob("*.py"):
        for target in imports_of(path):
            top = target.split(".")[0]
            if top not in {"vaelib", *CORE_THIRD_PARTY} and top not in sys.stdlib_module_names:
                outside.add(f"{path.name}: {target}")
    assert not outside, sorted(outside)


def test_a_fresh_interpreter_that_imports_the_core_loads_no_shell():
    """Importing vaelib and every core module loads no plotting or imaging library, and no run, command or
    notebook module: a learner's `import vaelib` is the core alone."""
    core = [f"vaelib.core.{path.stem}" for path in sorted((PACKAGE / "core").glob("*.py"))]
    code = f"import json, sys, vaelib, {', '.join(core)}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    banned = ("matplotlib", "PIL", "torchvision", "ipywidgets", "IPython", "vaelib.runs", "vaelib.commands")
    assert [name for name in loaded if name.startswith(banned) or name.startswith("vaelib.notebook")] == []


@pytest.mark.parametrize(
    "edges, expected",
    [
        ({"vaelib.core.model": {"vaelib.runs.storage"}, "vaelib.runs.storage": set()}, 1),  # core -> shell
        ({"vaelib.runs.run": {"vaelib.commands.cli"}, "vaelib.commands.cli": set()}, 1),  # shell -> commands
        ({"vaelib.notebook.live": {"vaelib.commands.cli"}, "vaelib.commands.cli": set()}, 1),  # sideways
        ({"vaelib.commands.train": {"vaelib.runs.run", "vaelib.core.model"}}, 0),  # downwards is fine
    ],
)
def test_an_upward_import_is_caught(edges, expected):
    for target in {t for ts in edges.values() for t in ts}:
        edges.setdefault(target, set())
    assert len(violations(edges)) == expected


def test_a_cycle_is_caught():
    edges = {"vaelib.core.a": {"vaelib.core.b"}, "vaelib.core.b": {"vaelib.core.c"}, "vaelib.core.c": {"vaelib.core.a"}}
    assert cycles(edges) == [["vaelib.core.a", "vaelib.core.b", "vaelib.core.c", "vaelib.core.a"]]
