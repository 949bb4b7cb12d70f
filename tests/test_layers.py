"""The house plan, checked: imports point one way (HTTP → queries/workers/loaders → models → core), no
app reaches into another app's HTTP layer, the two campaign apps never import each other, and there is
no import circle. Function-level imports count like any other (they cannot hide a circle).

The layer of a module comes from its path (docs/development.md, "Layout"); a module that matches no
rule fails the test, so every new file is placed on purpose.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: (pattern on the dotted module name, layer); the first match wins.
LAYER_RULES = [
    (r"^desctom\.(settings|urls|wsgi|cli|client)$", "top"),
    (r"^desctom\.(localstack|testing|apidocs)(\.|$)", "top"),
    (r"^desctom\.web(\.|$)", "http"),
    (r"\.(http|management|urls|urls_\w+|apps|admin)(\.|$)", "http"),
    (r"\.(queries|workers|loaders)(\.|$)", "logic"),
    (r"^desctom\.loaders(\.|$)", "logic"),
    (r"\.models(\.|$)", "models"),
    (r"^desctom(\.(core|survey)(\.|$)|$)", "core"),
    (r"^desctom\.\w+$", "core"),  # an app's package itself (its __init__ imports nothing of ours)
]
RANK = {"core": 0, "models": 1, "logic": 2, "http": 3, "top": 4}
CAMPAIGN_APPS = {"elasticc", "elasticc2"}


def layer_of(module: str) -> str | None:
    for pattern, layer in LAYER_RULES:
        if re.search(pattern, module):
            return layer
    return None


def app_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def modules(root: Path = SRC) -> dict[str, Path]:
    found = {}
    for path in (root / "desctom").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(known: dict[str, Path]) -> list[tuple[str, str, int]]:
    """Every import of a desctom module by a desctom module: (importer, imported, line)."""
    edges = []
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            for target in targets:
                if not target.startswith("desctom"):
                    continue
                while target not in known and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name and target in known:
                    edges.append((name, target, node.lineno))
    return edges


def arrow_problems(known: dict[str, Path], edges: list[tuple[str, str, int]]) -> list[str]:
    problems = [f"{m}: no layer (add it to LAYER_RULES or move it)" for m in known if layer_of(m) is None]
    for src, dst, line in edges:
        ls, ld = layer_of(src), layer_of(dst)
        if ls is None or ld is None:
            continue
        where = f"{src}:{line} imports {dst}"
        if RANK[ld] > RANK[ls]:
            problems.append(f"{where}: {ls} may not import {ld}")
        if ld == "http" and ls != "top" and app_of(src) != app_of(dst):
            problems.append(f"{where}: another app's HTTP layer")
        if {app_of(src), app_of(dst)} <= CAMPAIGN_APPS and app_of(src) != app_of(dst):
            problems.append(f"{where}: the campaign apps do not import each other")
    return sorted(set(problems))


def circles(edges: list[tuple[str, str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for src, dst, _ in edges:
        graph.setdefault(src, set()).add(dst)
        graph.setdefault(dst, set())
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_imports_point_one_way():
    known = modules()
    problems = arrow_problems(known, imports(known))
    assert not problems, "\n".join(problems)


def test_no_import_circle():
    found = circles(imports(modules()))
    assert not found, "\n".join(" <-> ".join(c) for c in found)


# The checker itself, on small made-up trees: each rule fails when broken.

def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for parent in path.relative_to(tmp_path).parents:
            init = tmp_path / parent / "__init__.py"
            if parent != Path(".") and not init.exists():
                init.write_text("")
    return modules(tmp_path)


@pytest.mark.parametrize("files, expected", [
    ({"desctom.a.models.m": "def f():\n    from desctom.a.queries.q import x\n", "desctom.a.queries.q": ""},
     "models may not import logic"),
    ({"desctom.core.c": "from desctom.a.http.v import x\n", "desctom.a.http.v": ""},
     "core may not import http"),
    ({"desctom.a.http.v": "from desctom.b.http.w import x\n", "desctom.b.http.w": ""},
     "another app's HTTP layer"),
    ({"desctom.elasticc.queries.q": "import desctom.elasticc2.models.m\n", "desctom.elasticc2.models.m": ""},
     "the campaign apps do not import each other"),
    ({"desctom.a.b.somewhere": ""}, "no layer"),
])
def test_the_checker_catches_each_kind_of_wrong_arrow(tmp_path, files, expected):
    known = _tree(tmp_path, files)
    problems = arrow_problems(known, imports(known))
    assert any(expected in p for p in problems), problems
    assert not arrow_problems(known, []) or expected == "no layer"


def test_the_checker_catches_a_circle_hidden_in_a_function(tmp_path):
    known = _tree(tmp_path, {"desctom.a.queries.one": "from desctom.a.queries.two import y\n",
                             "desctom.a.queries.two": "def g():\n    from desctom.a.queries.one import x\n"})
    edges = imports(known)
    assert not arrow_problems(known, edges)
    assert circles(edges) == [["desctom.a.queries.one", "desctom.a.queries.two"]]
