"""The layering holds: each app imports only what lies below it.

Reads every module of every app (imports inside functions too, as `ast` sees them) and names
the offender, the way test_merge_registry.py walks the models. Tests and migrations are left
out: a test may drive any layer, and a migration names the models it depends on.

Below every domain: `core`. Then `people`; `contacts` and `timeline`; the channels (`inbox`,
`telephony`) and `deals`; what reacts to deals (`robots`, `outbox`, `work`); at the top the
pages that gather everything (`home`) and the demo company (`demo`), which nothing imports.
"""

import ast
from pathlib import Path

import pytest

OKNO = Path(__file__).resolve().parents[2]

# app -> apps it must never import, with the reason printed on failure.
FORBIDDEN: dict[str, tuple[set[str], str]] = {
    "core": ({"people", "contacts", "timeline", "inbox", "telephony", "deals", "robots", "outbox", "work",
              "push", "home", "demo"}, "core is below every domain"),
    "people": ({"contacts", "timeline", "inbox", "telephony", "deals", "robots", "outbox", "work", "home",
                "demo"}, "people says who sees what; it knows no customer data"),
    "contacts": ({"inbox", "telephony", "deals", "robots", "outbox", "work", "push", "home", "demo"},
                 "the card knows no channel, PBX or process: they register with it"),
    "timeline": ({"inbox", "telephony", "deals", "robots", "outbox", "work", "home", "demo"},
                 "the timeline draws other domains' rows through its registry"),
    "deals": ({"robots", "outbox", "home", "demo"}, "robots and the outbox subscribe to deals' events"),
}
# Nothing but the top imports these.
TOP = {"home", "demo", "analytics"}  # analytics reads every domain; only home and demo may import it


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from okno import contacts` names the app in the alias
            if node.module == "okno":
                found += [(node.lineno, f"okno.{alias.name}") for alias in node.names]
    return found


def _modules(app: str):
    for path in sorted((OKNO / app).rglob("*.py")):
        parts = path.relative_to(OKNO / app).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


def _target_app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "okno" else None


def _apps() -> list[str]:
    return sorted(p.name for p in OKNO.iterdir() if (p / "apps.py").exists())


def offenders(app: str, forbidden: set[str]) -> list[str]:
    out = []
    for path in _modules(app):
        for line, module in _imports(path):
            target = _target_app(module)
            if target in forbidden and target != app:
                out.append(f"{path.relative_to(OKNO.parent)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_imports_nothing_above_it(app):
    forbidden, why = FORBIDDEN[app]
    found = offenders(app, forbidden)
    assert not found, f"{app}: {why}:\n" + "\n".join(found)


def test_nothing_imports_the_top():
    found = []
    for app in _apps():
        if app not in TOP:
            found += offenders(app, TOP)
    assert not found, "home and demo are at the top; nothing may import them:\n" + "\n".join(found)


def test_the_walk_sees_imports_inside_functions(tmp_path):
    # given a module that imports a channel only inside a function
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from okno.inbox.models import Conversation\n    return Conversation\n")
    # then the walk finds it
    assert (2, "okno.inbox.models") in _imports(module)


def test_every_app_is_known_to_the_rules():
    # A new app must say where it stands: add it to FORBIDDEN or to this list of apps free to
    # import what lies below them.
    free = {"inbox", "telephony", "robots", "outbox", "invoices", "work", "stores", "documents", "push", "analytics",
            "home", "demo"}
    unknown = set(_apps()) - set(FORBIDDEN) - free
    assert not unknown, f"apps with no place in the layering: {sorted(unknown)}"
