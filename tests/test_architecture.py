"""The house's rules, each a test that fails when a change breaks it.

- Nobody but the registry knows a model: no page, no module of `core/training/` and not
  `core/models/presets.py` names a registry entry or a model's class; they read the entry's
  statements (`core.models.contract`).
- `core/` has no import cycle, counting imports inside functions too, between its modules nor
  between its packages (`core.runs` may use `core.models`, never the other way too).
- `core/` never imports streamlit.
"""

import ast
import re
from pathlib import Path

from core.models.registry import MODELS
from tests.conftest import ROOT

CORE = ROOT / "core"
NAME_FREE = [
    *sorted((ROOT / "pages").glob("*.py")),
    *sorted((CORE / "training").glob("*.py")),
    CORE / "models" / "presets.py",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports, anywhere in it: `from a.b import c` counts as a.b.c when
    that is a module, else as a.b."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    return {name for name in found if name in modules}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_page_runner_or_preset_names_a_model():
    names = set(MODELS) | {spec.model_class.__name__ for spec in MODELS.values()}
    names |= {spec.config_class.__name__ for spec in MODELS.values()}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {match.group(0)}"
        for path in NAME_FREE
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for match in pattern.finditer(line)
    ]
    assert found == []


def test_the_name_check_would_see_a_name():
    names = "|".join(sorted(map(re.escape, MODELS)))
    assert re.search(rf"\b({names})\b", 'if spec.model == "proxy_tuned":')


def test_core_has_no_import_cycle():
    paths = sorted(CORE.rglob("*.py"))
    modules = {_module_name(path) for path in paths}
    graph = {_module_name(path): _imports(path, modules) - {_module_name(path)} for path in paths}
    assert sum(len(targets) for targets in graph.values()) > 50  # the scan sees the imports
    assert _cycles(graph) == []


def test_core_packages_have_no_import_cycle():
    paths = sorted(CORE.rglob("*.py"))
    modules = {_module_name(path) for path in paths}

    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])  # core.runs.result -> core.runs; core.data stays

    graph: dict[str, set[str]] = {}
    for path in paths:
        source = package(_module_name(path))
        targets = {package(target) for target in _imports(path, modules)} - {source, "core"}
        graph.setdefault(source, set()).update(targets)
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, set())
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_never_imports_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for path in CORE.rglob("*.py")
        if any(name.split(".")[0] == "streamlit" for name in _all_imports(path))
    ]
    assert offenders == []


def _all_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names
