"""The import rules of ARCHITECTURE.md, checked over the source with ``ast``.

Every ``import`` counts, including the ones inside functions (a lazy import is still a dependency).
A new module is covered as soon as it exists; a rule broken anywhere fails with the file, the line
and the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "chain", "readmodel", "api", "cli")  # bottom to top
FRAMEWORKS = ("fastapi", "starlette")
STORAGE = ("sqlmodel", "sqlalchemy", "alembic")
WEB3 = ("web3", "eth_account", "eth_abi", "eth_utils", "hexbytes")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the imported module, dotted


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(*roots: str) -> Iterator[Import]:
    for root in roots:
        base = REPO / root
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            if "migrations" in path.parts:
                continue
            module = _module_name(path)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        yield Import(module, path, node.lineno, alias.name)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    yield Import(module, path, node.lineno, node.module)
                    for alias in node.names:  # ``from api.services import offers`` names a module too
                        yield Import(module, path, node.lineno, f"{node.module}.{alias.name}")


def _under(target: str, *prefixes: str) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def _project_module(target: str) -> bool:
    dotted = target.replace(".", "/")
    return (REPO / f"{dotted}.py").is_file() or (REPO / dotted / "__init__.py").is_file()


def _violations(rule: str, found: Iterator[Import]) -> list[str]:
    return [f"{i.path.relative_to(REPO)}:{i.line}: {i.module} imports {i.target} ({rule})" for i in found]


def test_layers_import_downwards_only() -> None:
    """domain < chain < readmodel < api < cli: no layer imports one above it."""
    rank = {layer: n for n, layer in enumerate(LAYERS)}
    bad = (
        i
        for i in imports(*LAYERS)
        if i.target.split(".")[0] in rank and rank[i.target.split(".")[0]] > rank[i.module.split(".")[0]]
    )
    assert not (v := _violations("a lower layer imports a higher one", bad)), "\n".join(v)


def test_domain_is_pure() -> None:
    """No web framework, no database, no node client in domain/ (ABI encoding only for fingerprints)."""

    def bad(i: Import) -> bool:
        if _under(i.target, *FRAMEWORKS, *STORAGE, "web3", "eth_account", "httpx", "requests"):
            return True
        return _under(i.target, "eth_abi", "eth_utils", "hexbytes") and i.module != "domain.fingerprint"

    found = (i for i in imports("domain") if bad(i))
    assert not (v := _violations("domain/ is pure", found)), "\n".join(v)


def test_chain_is_web3_access_only() -> None:
    """chain/ holds no tables and no web code; chain.plan is stdlib only (brownie reads it)."""
    found = [i for i in imports("chain") if _under(i.target, *FRAMEWORKS, *STORAGE)]
    found += [
        i
        for i in imports("chain/plan.py")
        if i.target.split(".")[0] not in ("__future__", "dataclasses", "typing")
    ]
    assert not (v := _violations("chain/ is web3 access", iter(found))), "\n".join(v)


def test_readmodel_knows_no_web_framework() -> None:
    found = (i for i in imports("readmodel") if _under(i.target, *FRAMEWORKS))
    assert not (v := _violations("readmodel/ has no web code", found)), "\n".join(v)


ROUTE_MAY_IMPORT = (
    "api.auth",
    "api.csvout",
    "api.deps",
    "api.errors",
    "api.idempotency",
    "api.schemas",
    "api.services",
)


def test_routes_are_thin() -> None:
    """Routers authenticate, authorize, call a service and shape the answer: they reach nothing else
    of the project (no tables, no chain, no read model, no domain logic but the roles)."""

    def bad(i: Import) -> bool:
        if _under(i.target, *STORAGE, *WEB3):
            return True
        if not _project_module(i.target) and i.target.split(".")[0] in LAYERS:
            return False  # ``from api.services import offers``: the module import is checked itself
        return i.target.split(".")[0] in LAYERS and not _under(i.target, *ROUTE_MAY_IMPORT, "domain.roles")

    found = (i for i in imports("api/routes") if bad(i))
    assert not (
        v := _violations(
            "routes import only api.{auth,csvout,deps,errors,idempotency,schemas,services}", found
        )
    ), "\n".join(v)


def test_services_know_no_http() -> None:
    """Services take plain arguments and raise ``ApiError``; HTTP (FastAPI, requests, responses,
    dependencies) stays in routes, deps, auth, idempotency and handlers."""
    http_side = (
        "api.routes",
        "api.deps",
        "api.auth",
        "api.idempotency",
        "api.handlers",
        "api.main",
        "api.csvout",
    )
    found = (i for i in imports("api/services") if _under(i.target, *FRAMEWORKS, *http_side))
    assert not (v := _violations("services know no HTTP", found)), "\n".join(v)


def test_schemas_import_nothing_of_the_api() -> None:
    found = (
        i for i in imports("api/schemas") if _under(i.target, "api") and not _under(i.target, "api.schemas")
    )
    assert not (v := _violations("schemas import nothing from api.*", found)), "\n".join(v)


def test_the_api_core_is_framework_free() -> None:
    """State, tables, database, settings, errors and nonces are below the services: no FastAPI, no
    services, no routes."""
    core = (
        "api/state.py",
        "api/models.py",
        "api/db",
        "api/settings.py",
        "api/errors.py",
        "api/nonces.py",
        "api/leader.py",
    )
    found = (
        i
        for i in imports(*core)
        if _under(i.target, *FRAMEWORKS, "api.services", "api.routes", "api.deps", "api.auth", "api.handlers")
    )
    assert not (v := _violations("the api core is framework-free", found)), "\n".join(v)


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for i in imports(*LAYERS):
        if _project_module(i.target) and i.target != i.module:
            graph.setdefault(i.module, set()).add(i.target)
    # a package's __init__ importing its own submodules is not a cycle worth reporting
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(("root", "forbidden"), [("bench", "tests"), ("scripts", "api")])
def test_tools_do_not_reach_into_tests_or_the_gateway(root: str, forbidden: str) -> None:
    found = (i for i in imports(root) if _under(i.target, forbidden))
    assert not (v := _violations(f"{root}/ does not import {forbidden}", found)), "\n".join(v)


def test_route_handlers_stay_short() -> None:
    """At most 25 lines a handler, decorator, signature and docstring included (today 16 at the most):
    the work is in a service."""
    long = []
    for path in sorted((REPO / "api" / "routes").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                length = node.end_lineno - start + 1
                if length > 25:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.name} is {length} lines")
    assert not long, "\n".join(long)


def test_the_codemap_lists_every_module() -> None:
    """ARCHITECTURE.md names every source module (by its path, or by its name on its folder's row)."""
    text = (REPO / "ARCHITECTURE.md").read_text()
    lines = text.splitlines()
    sources = [
        p
        for root in (*LAYERS, "contracts", "scripts", "tools", "bench")
        for p in sorted((REPO / root).rglob("*"))
        if p.suffix in (".py", ".sol") and p.name != "__init__.py" and "migrations" not in p.parts
    ]
    missing = []
    for path in sources:
        rel = path.relative_to(REPO).as_posix()
        folder = rel.rsplit("/", 1)[0] + "/"
        if f"`{rel}`" in text:
            continue
        if any(folder in line and f"`{path.name}`" in line for line in lines):
            continue
        missing.append(rel)
    assert not missing, "not in ARCHITECTURE.md's codemap: " + ", ".join(missing)
