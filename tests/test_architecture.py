"""The house rules of docs/architecture.md, checked on the code itself: which folder may
import what, and that production start-up never loads the local try-out channels."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

SDK_PACKAGES = ("botbuilder", "botframework", "msrest")
# package -> first-party packages it must never import
FORBIDDEN = {
    "model": ("bot", "dialogs"),
    "dialogs": ("bot",),
    "bot.sdk": ("bot.handler", "bot.runtime", "bot.http", "bot.local", "bot.ops", "dialogs"),
    "bot": ("bot.local",),  # production code; bot.ops may use the local chat on request
}


def _modules(package: str):
    folder = ROOT / package.replace(".", "/")
    for path in sorted(folder.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield name, path


def _imports(path: Path, module: str) -> set[str]:
    """Every module a file imports, relative imports resolved, at any depth (lazy ones too)."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0] if not path.name == "__init__.py" else module
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return found


def _owner(module: str) -> str:
    for package in sorted(FORBIDDEN, key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    return ""


def test_model_imports_no_bot_sdk():
    offenders = {
        name: sorted(i for i in _imports(path, name) if i.split(".")[0] in SDK_PACKAGES)
        for name, path in _modules("model")
    }
    assert not {k: v for k, v in offenders.items() if v}


@pytest.mark.parametrize("package", ["model", "dialogs", "bot"])
def test_each_layer_imports_only_what_it_may(package):
    wrong = {}
    for name, path in _modules(package):
        owner = _owner(name)
        if package == "bot" and name.startswith(("bot.local", "bot.ops")):
            continue  # try-out channels and operator tools sit on top of everything
        banned = FORBIDDEN.get(owner, ())
        bad = sorted(i for i in _imports(path, name) if any(i == b or i.startswith(b + ".") for b in banned))
        if bad:
            wrong[name] = bad
    assert not wrong


def test_production_start_up_imports_nothing_from_the_local_channels(tmp_path):
    """With an app id, `app.create_runtime` builds the served app; bot.local stays unloaded."""
    script = (
        "import sys, app; from bot.config import Config; "
        f"app.create_runtime(Config(APP_ID='00000000-0000-0000-0000-000000000001', DATA_DIR={str(tmp_path)!r}, "
        "NUDGES='off')); "
        "print(sorted(m for m in sys.modules if m.startswith('bot.local')))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    local = subprocess.run(
        [sys.executable, "-c", script.replace("APP_ID='00000000-0000-0000-0000-000000000001', ", "")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "bot.local.directline" in local.stdout  # and local mode does mount them
