"""The folders tell the architecture only while the imports follow it: an
app imports the apps below it, never one above (contacts knows nothing of
tickets; the duplicate removal, above both, calls them). Read from the
source, so a new import that climbs fails here before anyone reads it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Each app and what it may import, lowest first. contacts_portal's wiring
#: (settings, URLs, WSGI, the health check) sits above everything and is not listed.
LAYERS = {
    "contacts_portal": set(),
    "audit": {"contacts_portal"},
    "jobs": {"contacts_portal", "audit"},
    "accounts": {"contacts_portal", "audit"},
    "contacts": {"contacts_portal", "audit", "jobs"},
    "tickets": {"contacts_portal", "audit", "jobs", "contacts"},
    "dedup": {"contacts_portal", "audit", "jobs", "contacts", "tickets"},
    "bulk": {"contacts_portal", "audit", "jobs", "contacts"},
    "lgpd": {"contacts_portal", "audit", "jobs", "contacts", "tickets", "dedup", "bulk"},
}
# The health check looks at the whole site (database, migrations, workers).
WIRING = {
    "contacts_portal/settings.py",
    "contacts_portal/test_settings.py",
    "contacts_portal/urls.py",
    "contacts_portal/wsgi.py",
    "contacts_portal/health.py",
}


def imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(LAYERS)


def sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or relative in WIRING:
            continue
        yield relative, path


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app):
    climbing = {
        relative: sorted(imported_apps(path) - LAYERS[app] - {app})
        for relative, path in sources(app)
        if imported_apps(path) - LAYERS[app] - {app}
    }
    assert climbing == {}


def test_every_app_has_a_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"contacts_portal"}
    assert apps == set(LAYERS)
