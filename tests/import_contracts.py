"""An import-linter contract that import-linter has no type for: no private name across areas.

An area (a package under `refurb`: intake, erasure, stations…) may use another
one only through its public names. A name starting with `_` is private: it
may not be imported from another area (`from refurb.intake.pages import
_error`), nor reached through an imported module (`pages._error`), nor may a
private module be imported from outside its area. Declared in
`pyproject.toml` and run by `lint-imports` in CI.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

__all__ = ("PrivateNamesContract",)


@dataclass(frozen=True)
class _Breach:
    module: str
    line: int
    target: str

    def render(self) -> str:
        return f"{self.module} (l.{self.line}) uses {self.target}, private to another area"


def _area(module: str, root: str) -> str:
    """`refurb.intake.pages` → `refurb.intake`; a top-level module is its own area."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == root and len(parts) > 1 else module


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def _breaches(module: str, path: Path, root: str) -> list[_Breach]:
    """Every private name of another area this module reaches."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = _area(module, root)
    found: list[_Breach] = []
    aliases: dict[str, str] = {}  # local name → the other area's module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith(root + ".") or _area(node.module, root) == own:
                continue
            if _private(node.module):
                found.append(_Breach(module, node.lineno, node.module))
            for name in node.names:
                if _private(name.name):
                    found.append(_Breach(module, node.lineno, f"{node.module}.{name.name}"))
                aliases[name.asname or name.name] = f"{node.module}.{name.name}"
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith(root + ".") and _area(name.name, root) != own:
                    if _private(name.name):
                        found.append(_Breach(module, node.lineno, name.name))
                    aliases[name.asname or name.name] = name.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ):
            found.append(_Breach(module, node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return found


class PrivateNamesContract(Contract):
    """Modules of `containers` use no private name of another area of the same root package."""

    containers = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Parse every module of the containers and collect what breaks the rule."""
        breaches: list[_Breach] = []
        for container in self.containers:
            root = container.name.split(".")[0]
            for module in sorted(graph.find_descendants(container.name) | {container.name}):
                spec = importlib.util.find_spec(module)
                if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                    continue
                breaches += _breaches(module, Path(spec.origin), root)
        return ContractCheck(kept=not breaches, metadata={"breaches": breaches})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """One line per breach."""
        for breach in check.metadata["breaches"]:
            output.print_error(breach.render(), bold=False)
            output.new_line()
