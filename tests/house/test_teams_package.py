"""The Teams package must pass Microsoft's schemas, or an admin cannot upload it."""

from __future__ import annotations

import io
import json
import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from jsonschema.validators import validator_for
from PIL import Image
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

import bot.ops.teams_package as tp
from model.content import texts

REPO = Path(__file__).resolve().parents[2]
# the schemas sit beside the checkout (/work/shared next to /work/main), or beside the folder of
# worktrees (/work/shared next to /work/wt/NAME)
SCHEMAS = next(
    (p / "shared" / "schemas" for p in REPO.parents[:2] if (p / "shared" / "schemas").exists()),
    REPO.parent / "shared" / "schemas",
)
MANIFEST_SCHEMA = SCHEMAS / "teams-manifest-v1.29.schema.json"
LOCALIZATION_SCHEMA = SCHEMAS / "teams-localization.schema.json"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

# Public addresses of the schemas -> the local copies, so validation never needs the network.
LOCAL_COPIES = {tp.MANIFEST_SCHEMA: MANIFEST_SCHEMA, tp.LOCALIZATION_SCHEMA: LOCALIZATION_SCHEMA}


def _offline(uri: str) -> Resource:
    local = LOCAL_COPIES.get(uri.rstrip("#"))
    if local is None or not local.exists():
        raise NoSuchResource(ref=uri)  # fail clearly instead of downloading
    return Resource.from_contents(json.loads(local.read_text(encoding="utf-8")))


def _errors(schema_path: Path, document: dict) -> list[str]:
    if not schema_path.exists():
        pytest.skip(f"Teams schema not found at {schema_path} (expected the shared schemas next to the repo)")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    cls = validator_for(schema)  # both schemas declare draft-04
    # Meta-check without format checks: the manifest schema has one JavaScript-only regex
    # (\p{L}, for Office add-in custom functions) that Python's re cannot compile.
    assert not list(cls(cls.META_SCHEMA).iter_errors(schema))
    validator = cls(schema, registry=Registry(retrieve=_offline), format_checker=cls.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = tp.build_package(APP_ID, tmp_path_factory.mktemp("pkg") / "app.zip")
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture(scope="module")
def manifest(package):
    return json.loads(package["manifest.json"])


@pytest.fixture(scope="module")
def localization(package):
    return json.loads(package["en-us.json"])


def test_zip_holds_exactly_the_package_files_at_its_root(package, manifest):
    assert set(package) == {"manifest.json", "en-us.json", "color.png", "outline.png"}
    assert set(manifest["icons"].values()) == {"color.png", "outline.png"}


def test_manifest_is_valid(manifest):
    assert _errors(MANIFEST_SCHEMA, manifest) == []


def test_localization_is_valid(localization):
    assert _errors(LOCALIZATION_SCHEMA, localization) == []


def test_schema_check_would_catch_a_broken_manifest(manifest):
    broken = {**manifest, "id": "not-a-guid", "unexpected": True}
    assert len(_errors(MANIFEST_SCHEMA, broken)) >= 2


def test_manifest_basics(manifest):
    assert manifest["$schema"] == tp.MANIFEST_SCHEMA
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["id"] == APP_ID
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "da-dk",
        "additionalLanguages": [{"languageTag": "en-us", "file": "en-us.json"}],
    }
    assert manifest["developer"]["name"] == "Kompetencehjulet-projektet"
    assert manifest["validDomains"] == []
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"])
    da = texts("da")
    assert manifest["name"]["short"] == da["bot_name"]
    assert manifest["description"] == {"short": da["bot_short_description"], "full": da["bot_full_description"]}


def test_bot_settings(manifest):
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    # Teams sends the file consent card only to bots that declare files (eksport, MUS summary)
    assert bot["supportsFiles"] is True and bot["isNotificationOnly"] is False


def test_each_scope_has_a_command_list_of_content_commands(manifest):
    (bot,) = manifest["bots"]
    covered = [scope for cl in bot["commandLists"] for scope in cl["scopes"]]
    assert sorted(covered) == sorted(bot["scopes"])
    da_commands = {c["command"]: c["description"] for c in texts("da")["commands"].values()}
    for cl in bot["commandLists"]:
        assert 0 < len(cl["commands"]) <= tp.COMMANDS_MAX
        for cmd in cl["commands"]:
            assert da_commands.get(cmd["title"]) == cmd["description"]
            assert len(cmd["title"]) <= 32 and len(cmd["description"]) <= 128


def test_english_translations_match_manifest_paths(manifest, localization):
    en_commands = {c["command"]: c["description"] for c in texts("en")["commands"].values()}
    lists = manifest["bots"][0]["commandLists"]
    command_keys = [k for k in localization if k.startswith("bots[")]
    assert len(command_keys) == 2 * sum(len(cl["commands"]) for cl in lists)
    for key in command_keys:
        i, j, field = re.fullmatch(r"bots\[0\]\.commandLists\[(\d+)\]\.commands\[(\d+)\]\.(\w+)", key).groups()
        assert field in lists[int(i)]["commands"][int(j)]  # translates something that exists
    for i, cl in enumerate(lists):
        for j in range(len(cl["commands"])):
            title = localization[f"bots[0].commandLists[{i}].commands[{j}].title"]
            assert en_commands[title] == localization[f"bots[0].commandLists[{i}].commands[{j}].description"]
    en = texts("en")
    assert localization["name.short"] == en["bot_name"]
    assert localization["description.short"] == en["bot_short_description"]
    assert localization["description.full"] == en["bot_full_description"]


def test_text_lengths_within_teams_limits(manifest, localization):
    """Checked here because draft-04 ignores the maxLength next to $ref in the localization schema."""
    for key, limit in tp.LIMITS.items():
        group, field = key.split(".")
        assert 0 < len(manifest[group][field]) <= limit
        assert 0 < len(localization[key]) <= limit


def test_version_comes_from_pyproject(manifest):
    with open(REPO / "pyproject.toml", "rb") as fh:
        assert manifest["version"] == tomllib.load(fh)["project"]["version"]


def test_explicit_version_and_bad_version(tmp_path):
    path = tp.build_package(APP_ID, tmp_path / "v.zip", version="2.3.4")
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("manifest.json"))["version"] == "2.3.4"
    with pytest.raises(ValueError, match="MAJOR.MINOR.PATCH"):
        tp.build_package(APP_ID, tmp_path / "bad.zip", version="2.3")


def test_icons(package):
    color = Image.open(io.BytesIO(package["color.png"]))
    assert color.format == "PNG" and color.size == (192, 192)
    outline = Image.open(io.BytesIO(package["outline.png"]))
    assert outline.format == "PNG" and outline.size == (32, 32)
    assert outline.mode == "RGBA"
    pixels = list(outline.get_flattened_data() if hasattr(outline, "get_flattened_data") else outline.getdata())
    assert all(p[3] == 0 or p[:3] == (255, 255, 255) for p in pixels)  # white, or fully transparent
    alphas = [p[3] for p in pixels]
    assert alphas[0] == 0 and min(alphas) == 0 and max(alphas) == 255


def test_developer_urls_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("TEAMS_PRIVACY_URL", "https://kommune.example/privatliv")
    with zipfile.ZipFile(tp.build_package(APP_ID, tmp_path / "p.zip")) as zf:
        developer = json.loads(zf.read("manifest.json"))["developer"]
    assert developer["privacyUrl"] == "https://kommune.example/privatliv"
    assert developer["websiteUrl"].startswith("https://example.org/kompetencehjulet/")
    monkeypatch.setenv("TEAMS_TERMS_URL", "http://insecure.example/terms")
    with pytest.raises(ValueError, match="TEAMS_TERMS_URL"):
        tp.build_package(APP_ID, tmp_path / "q.zip")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not-a-guid",
        "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
        "3f2504e04f8941d39a0c0305e82c3301",
        "3f2504e0-4f89-41d3-9a0c-0305e82c330g",
    ],
)
def test_malformed_app_id_is_a_clear_error(bad, tmp_path):
    with pytest.raises(ValueError, match="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"):
        tp.build_package(bad, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_cli_success(tmp_path, capsys):
    out = tmp_path / "sub" / "teams.zip"
    assert tp.main(["package", "--app-id", APP_ID, "--out", str(out)]) == 0
    assert out.exists()
    assert capsys.readouterr().out.strip() == str(out)


def test_cli_malformed_app_id(tmp_path, capsys):
    assert tp.main(["package", "--app-id", "12345", "--out", str(tmp_path / "x.zip")]) == 2
    err = capsys.readouterr().err
    assert "12345" in err and "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in err
    assert not (tmp_path / "x.zip").exists()


def test_cli_default_out_is_in_build_folder():
    assert tp.DEFAULT_OUT == REPO / "build" / "kompetencehjulet-teams.zip"


def test_shared_chat_menus_offer_only_what_the_bot_answers_there_and_language_everywhere(manifest):
    from model.commands import COMMANDS
    from model.language.understanding import understand

    PERSONAL_ONLY = {c.id for c in COMMANDS if c.personal_only}
    lists = {cl["scopes"][0]: cl["commands"] for cl in manifest["bots"][0]["commandLists"]}
    for scope, commands in lists.items():
        intents = [understand(c["title"]).intent for c in commands]
        assert "language" in intents, scope
        if scope != "personal":
            assert not set(intents) & PERSONAL_ONLY, (scope, intents)
    assert "team_overview" in [understand(c["title"]).intent for c in lists["team"]]


def test_building_without_real_urls_warns_loudly(tmp_path, monkeypatch, capsys):
    for env, _ in tp.URL_ENV.values():
        monkeypatch.delenv(env, raising=False)
    assert tp.main(["--app-id", "12345678-1234-1234-1234-123456789abc", "--out", str(tmp_path / "a.zip")]) == 0
    assert "WARNING" in capsys.readouterr().err
    for env, _ in tp.URL_ENV.values():
        monkeypatch.setenv(env, "https://kommune.example.dk/bot")
    assert tp.main(["--app-id", "12345678-1234-1234-1234-123456789abc", "--out", str(tmp_path / "b.zip")]) == 0
    assert "WARNING" not in capsys.readouterr().err


def test_each_scopes_menu_is_the_command_tables_menu_and_within_what_help_lists(manifest, localization):
    from model import commands

    lists = manifest["bots"][0]["commandLists"]
    for i, cl in enumerate(lists):
        (scope,) = cl["scopes"]
        expected = commands.menu(scope)
        assert [c["title"] for c in cl["commands"]] == [commands.word("da", c.id) for c in expected]
        english = [localization[f"bots[0].commandLists[{i}].commands[{j}].title"] for j in range(len(expected))]
        assert english == [commands.word("en", c.id) for c in expected]
        assert set(expected) <= set(commands.listed(scope))  # the menu never offers what help would not name
