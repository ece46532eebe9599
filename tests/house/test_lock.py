"""The lock files agree with pyproject.toml.

Every install (Makefile: `make run`, `make test`, `make lint`, CI) comes from
requirements.lock (the bot) or requirements-dev.lock (the bot, test and lint tools), never
from pyproject.toml's ranges; `make lock` writes both from those ranges. A dependency added
or a range changed in pyproject.toml without `make lock` fails here, before two machines
install two different programs.
"""

from __future__ import annotations

import re
import tomllib

from conftest import ROOT
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*(.+?))?\s*\\?$")


def locked(name: str) -> dict[str, list[dict]]:
    """Package -> its pins ({"version", "hashes": how many}) whose markers hold here."""
    pins: dict[str, list[dict]] = {}
    entry: dict | None = None
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            package, version, marker = match.groups()
            entry = None
            if marker is None or Marker(marker).evaluate():
                entry = {"version": Version(version), "hashes": 0}
                pins.setdefault(canonicalize_name(package), []).append(entry)
        elif entry is not None and line.strip().startswith("--hash="):
            entry["hashes"] += 1
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def check(lock: str, requirements: list[str]) -> list[str]:
    pins = locked(lock)
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        found = pins.get(canonicalize_name(requirement.name), [])
        if not found:
            problems.append(f"{requirement.name} is not in {lock}")
        for pin in found:
            if not requirement.specifier.contains(pin["version"], prereleases=True):
                problems.append(f"{lock} pins {requirement.name} {pin['version']}, outside {requirement.specifier}")
    return problems


def test_the_runtime_lock_has_every_dependency_within_its_range():
    problems = check("requirements.lock", project()["dependencies"])
    assert not problems, f"run `make lock` and commit both lock files: {problems}"


def test_the_dev_lock_has_every_dependency_and_tool_within_its_range():
    extras = project()["optional-dependencies"]
    problems = check("requirements-dev.lock", project()["dependencies"] + extras["test"] + extras["lint"])
    assert not problems, f"run `make lock` and commit both lock files: {problems}"


def test_the_runtime_lock_pins_what_the_dev_lock_pins_and_every_pin_has_hashes():
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert runtime and set(runtime) <= set(dev)
    differ = {name: (versions, dev[name]) for name, versions in runtime.items() if versions != dev[name]}
    assert not differ, f"the two locks disagree (run `make lock`): {differ}"
    unhashed = sorted(
        name for lock in (runtime, dev) for name, pins in lock.items() if any(not p["hashes"] for p in pins)
    )
    assert not unhashed, f"pins without hashes: {unhashed}"
