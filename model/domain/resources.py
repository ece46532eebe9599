"""The municipality's own offers per competence: courses, e-learning, networks, contact people.

An optional file (`RESOURCES_FILE`, JSON or YAML) lists them; the bot suggests them in its
answers and among a goal's actions. The shipped default is no file: the bot never invents
a course or a link. The file is checked once, at start-up, and a mistake is reported with
its line, so a typo costs the operator one restart and never a person's turn:

    procurement:                      # a competence id from model/content/wheel.json
      - title: Kursus i indkøb        # shown as a button: at most 28 characters
        text: Halv dag om, hvordan kommunen køber ind. Kontakt HR for at komme med.
        url: https://intranet.example.dk/kurser/indkob   # optional, https only
        kind: course                  # course | elearning | network | contact (optional)

JSON has the same shape. See docs/resources.example.yaml.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from model import content

KINDS = ("course", "elearning", "network", "contact")
TITLE_MAX = 28  # it becomes a button title (Teams cuts longer ones)
TEXT_MAX = 400
PER_COMPETENCE_MAX = 10


class ResourcesError(ValueError):
    """The file cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class Resource:
    competence: str
    title: str
    text: str
    url: str | None = None
    kind: str = "course"


class Resources:
    """What the municipality offers, by competence id; empty when there is no file."""

    def __init__(self, items: list[Resource] | None = None) -> None:
        self._by_competence: dict[str, list[Resource]] = {}
        for item in items or []:
            self._by_competence.setdefault(item.competence, []).append(item)

    def for_competence(self, competence: str) -> list[Resource]:
        return list(self._by_competence.get(competence, ()))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_competence.values())


def load(path: str | Path | None) -> Resources:
    """The offers in `path` (None or "" gives none); ResourcesError with a line on any mistake."""
    if not path:
        return Resources()
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ResourcesError(f"RESOURCES_FILE {path}: cannot be read ({type(err).__name__})") from None
    if path.suffix.lower() == ".json":
        try:
            json.loads(raw)
        except json.JSONDecodeError as err:
            raise ResourcesError(f"{path}, line {err.lineno}: not valid JSON ({err.msg})") from None
    try:
        root = yaml.compose(raw, Loader=yaml.SafeLoader)  # JSON is YAML too; nodes know their lines
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ResourcesError(f"{path}{where}: not valid YAML ({getattr(err, 'problem', err)})") from None
    return Resources(_read(path, root))


def _fail(path: Path, node: yaml.Node, problem: str) -> ResourcesError:
    return ResourcesError(f"{path}, line {node.start_mark.line + 1}: {problem}")


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(path, node, f"{what} must be a non-empty text")
    return str(node.value).strip()


def _read(path: Path, root: yaml.Node | None) -> list[Resource]:
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "the file must map competence ids to lists of offers")
    known = {c for _, c in content.all_competences()}
    items: list[Resource] = []
    for key_node, value_node in root.value:
        competence = _scalar(path, key_node, "a competence id")
        if competence not in known:
            raise _fail(path, key_node, f"unknown competence {competence!r}; use one of {sorted(known)}")
        if not isinstance(value_node, yaml.SequenceNode):
            raise _fail(path, value_node, f"{competence} must list its offers")
        if len(value_node.value) > PER_COMPETENCE_MAX:
            raise _fail(path, value_node, f"at most {PER_COMPETENCE_MAX} offers per competence")
        for entry in value_node.value:
            items.append(_entry(path, competence, entry))
    return items


def _entry(path: Path, competence: str, node: yaml.Node) -> Resource:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, "an offer has a title, a text and optionally a url and a kind")
    fields: dict[str, Any] = {}
    for key_node, value_node in node.value:
        name = _scalar(path, key_node, "a field name")
        if name not in ("title", "text", "url", "kind"):
            raise _fail(path, key_node, f"unknown field {name!r} (title, text, url, kind)")
        fields[name] = (_scalar(path, value_node, name), value_node)
    for required in ("title", "text"):
        if required not in fields:
            raise _fail(path, node, f"an offer needs a {required}")
    title, title_node = fields["title"]
    if len(title) > TITLE_MAX:
        raise _fail(path, title_node, f"title is {len(title)} characters; at most {TITLE_MAX} fit on a button")
    text, text_node = fields["text"]
    if len(text) > TEXT_MAX:
        raise _fail(path, text_node, f"text is {len(text)} characters; at most {TEXT_MAX}")
    url = None
    if "url" in fields:
        url, url_node = fields["url"]
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _fail(path, url_node, "url must be an https address")
    kind = "course"
    if "kind" in fields:
        kind, kind_node = fields["kind"]
        if kind not in KINDS:
            raise _fail(path, kind_node, f"kind must be one of {', '.join(KINDS)}")
    return Resource(competence, title, text, url, kind)
