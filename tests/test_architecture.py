"""The layout docs/architecture.md draws, checked against the code: xlt's imports (lazy ones included, those under
`if TYPE_CHECKING:` left out) form no cycle, the pipeline's layers import only downwards, the runtime plumbing
imports nothing of xlt above it, no folder but the task registry holds more than 12 modules, and only
`xlt.results.layout` spells the study directory's file names."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

import xlt

SOURCE = Path(xlt.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in SOURCE.rglob("*.py")}


class _Imports(ast.NodeVisitor):
    """Every module an xlt module imports, wherever the import statement stands, but under `if TYPE_CHECKING:`."""

    def __init__(self, module: str):
        is_package = MODULES[module].name == "__init__.py"
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            base = ".".join(anchor + ([node.module] if node.module else []))
        self.found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names)


def _xlt_module(name: str) -> str | None:
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name if name in MODULES else None


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        visitor = _Imports(module)
        visitor.visit(ast.parse(path.read_text()))
        graph[module] = {target for name in visitor.found if (target := _xlt_module(name)) not in (None, module)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


GRAPH = import_graph()


def test_no_module_of_xlt_imports_itself_back_through_others():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = "def late():\n    from xlt.pipeline.run.runner import run_study\n"
    visitor = _Imports("xlt.config")
    visitor.visit(ast.parse(source))
    assert visitor.found == {"xlt.pipeline.run.runner"}


LAYERS = ("xlt.pipeline.plan", "xlt.pipeline.stage", "xlt.pipeline.run", "xlt.pipeline.slurm")


@pytest.mark.parametrize("lower", range(len(LAYERS) - 1))
def test_a_pipeline_layer_imports_no_layer_above_it(lower):
    above = LAYERS[lower + 1 :]
    upward = sorted(
        (module, target)
        for module, targets in GRAPH.items()
        if module.startswith(LAYERS[lower])
        for target in targets
        if target.startswith(above)
    )
    assert upward == []


def test_the_runtime_plumbing_imports_nothing_of_xlt_but_errors_and_itself():
    outside = {
        (module, target)
        for module, targets in GRAPH.items()
        if module.startswith("xlt.runtime")
        for target in targets
        if not target.startswith("xlt.runtime") and target != "xlt.errors"
    }
    assert outside == set()


def test_no_folder_but_the_task_registry_holds_more_than_twelve_modules():
    sizes = Counter(path.parent for path in MODULES.values() if path.name != "__init__.py")
    assert {folder.name: n for folder, n in sizes.items() if n > 12 and folder != SOURCE / "tasks"} == {}


# A path inside a study or a stage directory spelt as a literal: `/ "stages"`, `"results.csv"`, `/ "loss.json"`...
STUDY_PATHS = re.compile(
    r"""/ "(stages|units|predictions|examples|checkpoint|selected|resume|workers|slurm|tracking)"|"""
    r""""(results\.csv|contrasts\.csv|study\.json|stage\.json|rows\.json|loss\.json|provenance\.json|tasks\.json|"""
    r"""languages\.json|distances\.json|state\.pt)\""""
)


# Modules that spell one of those names for a folder that is not a study's
NOT_A_STUDY = {
    "xlt.resume": "state.pt of a resume folder: a stage's resume/ and pretraining's work directory",
    "xlt.pretrain": "loss.json of a pretrained encoder's folder",
    "xlt.data.synthetic": "languages.json of the generated benchmark's data folder",
}


def test_only_the_layout_module_spells_paths_inside_a_study_directory():
    spelt = {
        f"{module}: {match.group(0)}"
        for module, path in MODULES.items()
        if module != "xlt.results.layout" and module not in NOT_A_STUDY
        for match in STUDY_PATHS.finditer(path.read_text())
    }
    assert spelt == set()


def test_the_path_check_sees_a_spelt_stage_directory():
    assert STUDY_PATHS.search('directory = study_dir / "stages" / stage_hash')
    assert STUDY_PATHS.search('path = study_dir / "results.csv"')


def test_every_module_the_architecture_doc_names_exists():
    doc = (SOURCE.parents[1] / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(xlt(?:\.\w+)+)`", doc))
    assert named and {name for name in named if _xlt_module(name) is None} == set()
