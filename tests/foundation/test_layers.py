"""Which layer may import which, read from the source (every import, also those inside
functions): the pure decision code knows no framework or broker, services know no Celery
faces or pages, models know no services."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "hedging", "schedules", "brokers")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Each name imported, as a dotted path: `from a import b` gives `a` and `a.b`."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            source = ".".join(filter(None, [base, node.module]))
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): imports_of(path) for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def breaches(layer: tuple[str, ...], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in MODULES.items()
        if within(module, layer)
        for name in names
        if within(name, forbidden) and not within(name, allowed)
    )


def test_the_imports_are_read_from_every_module():
    assert "hedging.services.orchestrator" in MODULES["hedging.tasks"]
    assert "hedging.models" in MODULES["hedging.services.sessions"]
    assert "django.conf.settings" in MODULES["hedging.services.runtime"]


@pytest.mark.parametrize(
    "layer, forbidden, allowed",
    [
        pytest.param(
            ("hedging.core",), ("django", "brokers", "hedging"), ("hedging.core",),
            id="the decision code knows no framework, broker, database, service or page: only itself",
        ),
        pytest.param(
            ("hedging.services",), ("hedging.tasks", "hedging.views", "hedging.api"), (),
            id="services know no Celery tasks and no pages",
        ),
        pytest.param(("hedging.models",), ("hedging.services", "hedging.tasks"), (), id="models know no services"),
        pytest.param(
            ("brokers",), ("hedging",), ("hedging.core.clock", "hedging.admin"),
            id="brokers know nothing of hedging but its clock and admin base (today)",
        ),
    ],
)
def test_layers(layer, forbidden, allowed):
    assert breaches(layer, forbidden, allowed) == []
