"""The run command installs requirements.txt only: everything the running app imports must come
from it, not from a package that only the test requirements happen to bring in."""

import importlib.metadata as metadata
import os
import re
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_distributions() -> set[str]:
    """requirements.txt and everything it pulls in (with the extras it asks for), by name."""
    installed = {_name(d.metadata["Name"]): d for d in metadata.distributions()}
    roots = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            roots.append(Requirement(line))
    seen: set[tuple[str, frozenset]] = set()
    stack = [(r, frozenset(r.extras)) for r in roots]
    while stack:
        requirement, extras = stack.pop()
        name = _name(requirement.name)
        if (name, extras) in seen or name not in installed:
            continue
        seen.add((name, extras))
        for text in installed[name].requires or []:
            child = Requirement(text)
            if child.marker and not any(child.marker.evaluate({"extra": e}) for e in (extras or {""})):
                continue
            stack.append((child, frozenset(child.extras)))
    return {name for name, _ in seen}


def _modules_of(distribution: metadata.Distribution) -> set[str]:
    top = (distribution.read_text("top_level.txt") or "").split()
    if top:
        return set(top)
    return {
        f.parts[0].removesuffix(".py")
        for f in distribution.files or []
        if f.parts[0].endswith(".py") or (len(f.parts) > 1 and f.parts[1] == "__init__.py")
    }


# Imported in a fresh interpreter where every module of a test-only package raises ImportError:
# what bin/run's processes load (web, worker and beat on both brokers) plus every app module.
PROBE = """
import importlib, importlib.abc, os, pkgutil, sys
blocked = set(sys.argv[1].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} comes only from the test requirements")

sys.meta_path.insert(0, Block())
import django
django.setup()
for module in ("kombu.transport.redis", "kombu.transport.filesystem", "celery.bin.celery", "celery.apps.worker",
               "celery.apps.beat", "gunicorn.app.wsgiapp", "honcho.command", "cxgov.wsgi", "cxgov.celery",
               "cxgov.beat", "django_celery_beat.schedulers", "django_celery_results.backends.database"):
    importlib.import_module(module)
for app in ("cxgov", "metrics", "alerts", "rootcause", "outcomes", "ownership", "digests"):
    package = importlib.import_module(app)
    for info in pkgutil.walk_packages(package.__path__, app + "."):
        if ".tests" not in info.name and ".migrations" not in info.name:
            importlib.import_module(info.name)
print("ok")
"""


def test_app_imports_nothing_that_only_the_test_requirements_install(tmp_path):
    runtime = _runtime_distributions()
    test_only = {_name(d.metadata["Name"]): d for d in metadata.distributions()}
    blocked = set()
    for name, distribution in test_only.items():
        if name not in runtime and name not in {"pip", "setuptools"}:
            blocked |= _modules_of(distribution)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxgov.settings",
        "CXGOV_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6390/0",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(sorted(blocked))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
