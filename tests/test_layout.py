"""The package's folders are its architecture: data flows one way, from reading to output.

Each subpackage is a layer; a module may import its own layer and the layers before it, never a later one,
and no chain of imports (module-level or inside a function) may come back to where it started.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "matcher"

#: The layers in the order data flows through them. A module's layer is the first entry its name starts with.
LAYERS = (
    "matcher.errors",  # the one root error, used everywhere
    "matcher.model",  # profile, units, dates, drugs, the field table
    "matcher.intake",  # reading files, cohorts and FHIR bundles into the model
    "matcher.rules",  # the rule language, lint and the compiler
    "matcher.engine",  # the durable-rules adapter and evaluation
    "matcher.results",  # explanation and rendering
    "matcher.api",  # the Python API
    "matcher.screening",  # cohorts: the run, its outputs, the report, the log
    "matcher.tools",  # synthetic cohorts, bench, generated tables
    "matcher.cli",  # the command line, on top of everything
    "matcher.__main__",
    "matcher",  # the facade (matcher/__init__.py) re-exports the public names
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    for index, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS in {__file__}")


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The matcher modules ``module`` imports, at any depth of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "matcher")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != "matcher":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {name for name in found if name != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_every_module_is_in_a_layer() -> None:
    for module in _modules():
        _layer(module)


def test_no_module_imports_a_later_layer() -> None:
    upward = [f"{module} (layer {LAYERS[_layer(module)]}) imports {target} (layer {LAYERS[_layer(target)]})"
              for module, targets in _graph().items() for target in sorted(targets)
              if _layer(target) > _layer(module)]
    assert not upward, "\n".join(upward)


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target == "matcher":
                continue  # the facade is the top layer; the layer test refuses it below the top
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("module", ["matcher.model.units", "matcher.intake.validate"])
def test_the_cycles_found_before_are_gone(module: str) -> None:
    """units <-> fields <-> profile and fhir <-> validate were cycles until the layout of this round."""
    graph = _graph()
    assert not any(module in graph[target] for target in graph[module])


def test_every_file_the_package_reads_is_package_data() -> None:
    """A wheel carries only the declared data files: the report's CSS and JavaScript must be among them."""
    setup_py = ast.parse((PACKAGE.parent / "setup.py").read_text(encoding="utf-8"))
    package_data = next(ast.literal_eval(node.value) for node in setup_py.body
                        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PACKAGE_DATA")
    data_files = [path for path in PACKAGE.rglob("*") if path.is_file() and path.suffix not in {".py", ".pyc"}]
    assert data_files, "the report's page files are package data"
    for path in data_files:
        package = ".".join(path.parent.relative_to(PACKAGE.parent).parts)
        assert path.name in package_data.get(package, []), f"{path} is not declared in setup.py's PACKAGE_DATA"


#: the longest a module may be without saying, at the top of its docstring, why it is longer
MODULE_LINES = 500
#: modules over the limit that other work of this round is reshaping; each must lose its entry when it lands
PENDING_SPLIT = {
}


def test_no_long_module_without_a_reason() -> None:
    """A module over MODULE_LINES lines says why in its docstring ("Over 500 lines ..."), or is split."""
    root = PACKAGE.parent
    long_modules = {path.relative_to(root).as_posix(): path
                    for folder in (PACKAGE, root / "tests") for path in sorted(folder.rglob("*.py"))
                    if len(path.read_text(encoding="utf-8").splitlines()) > MODULE_LINES}
    docstrings = {name: ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
                  for name, path in long_modules.items()}
    unexplained = [name for name, docstring in docstrings.items()
                   if name not in PENDING_SPLIT and f"Over {MODULE_LINES} lines" not in docstring]
    assert not unexplained, f"split these modules or say why they are long at the top of their docstring: {unexplained}"
    settled = sorted(set(PENDING_SPLIT) - set(long_modules))
    assert not settled, f"no longer over {MODULE_LINES} lines: remove them from PENDING_SPLIT: {settled}"


def test_nothing_a_user_reads_points_outside_the_project() -> None:
    """The README, docs, rule files (their notes are printed), examples and messages never send a reader to
    ../shared or the development notes: the project holds what a user needs."""
    root = PACKAGE.parent
    read_by_users = [root / "README.md", root / "setup.py", *sorted((root / "docs").rglob("*.md")),
                     *sorted((root / "rules").rglob("*")), *sorted((root / "patients").rglob("*")),
                     *sorted(PACKAGE.rglob("*.py"))]
    for path in read_by_users:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for outside in ("../shared", "shared/seeds", "ENGINE_NOTES", "CLINICAL.md"):
                assert outside not in text, f"{path.relative_to(root)} points to {outside}"
