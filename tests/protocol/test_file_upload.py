"""The file consent upload goes only where it may: with an app id https to an allowed
upload host (UPLOAD_HOSTS), in local mode loopback only, never a URL with a user name or
password in it. A refused URL gets the person a plain message, and nothing is sent."""

from __future__ import annotations

import pytest
from conftest import Connector, TeamsUser
from test_security import AuthBotServer, bearer, keys  # noqa: F401 - keys is a fixture

from bot.config import Config, upload_hosts
from dialogs.files import upload_target
from model import content


async def _offer_export(server, connector, user, headers=None) -> int:
    """Onboard, ask for the export; returns where the consent card's turn began."""

    async def send(activity):
        status, body = await server.post(activity, headers=headers() if headers else None)
        assert status in (200, 201), (status, body)

    await send(user.install())
    await send(user.message("Leder"))
    await send(user.message("3"))
    before = len(connector.activities)
    await send(user.message("eksport"))
    return before


@pytest.fixture
async def elsewhere():
    """Another server on this machine: where a crafted upload URL really points."""
    other = Connector()
    await other.start()
    yield other
    await other.stop()


def _url_cases(connector: Connector, other: Connector) -> dict[str, str]:
    host_port = other.url.removeprefix("http://").rstrip("/")
    port = connector.url.rsplit(":", 1)[1].rstrip("/")
    return {
        # passed the old "http://127.0.0.1:" prefix check; the real host is after the "@"
        "user info before the real host": f"http://127.0.0.1:{port}@{host_port}/upload/stolen.json",
        "user name and password": f"http://user:pass@{host_port}/upload/stolen.json",
        # passed the old "https://" prefix check
        "any https host": "https://attacker.invalid/upload/stolen.json",
        "not http at all": "file:///etc/passwd",
    }


CASES = ["user info before the real host", "user name and password", "any https host", "not http at all"]


@pytest.mark.parametrize("case", CASES)
async def test_local_mode_uploads_to_loopback_only_and_says_so_when_refused(server, connector, elsewhere, case):
    user = TeamsUser(connector)
    before = await _offer_export(server, connector, user)
    invoke = connector.accept_file(user, before)
    invoke["value"]["uploadInfo"]["uploadUrl"] = _url_cases(connector, elsewhere)[case]
    after = len(connector.activities)
    status, _ = await server.post(invoke)
    assert status == 400
    assert elsewhere.uploads == {} and connector.uploads == {}, "the export was sent"
    assert connector.all_text(after) == content.t("da", "privacy.file_refused")


async def test_local_mode_still_uploads_to_the_loopback_connector(server, connector):
    user = TeamsUser(connector)
    before = await _offer_export(server, connector, user)
    status, _ = await server.post(connector.accept_file(user, before))
    assert status == 200 and len(connector.uploads) == 1


@pytest.fixture
async def secure(tmp_path, keys):  # noqa: F811
    server = AuthBotServer(tmp_path / "data", keys)
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("url", ["loopback connector", "any https host", "user info"])
async def test_with_an_app_id_only_allowed_https_upload_hosts_get_the_file(secure, keys, connector, url):  # noqa: F811
    user = TeamsUser(connector, locale="en-US")
    before = await _offer_export(secure, connector, user, headers=lambda: bearer(keys.token(connector.url)))
    invoke = connector.accept_file(user, before)
    invoke["value"]["uploadInfo"]["uploadUrl"] = {
        "loopback connector": invoke["value"]["uploadInfo"]["uploadUrl"],  # http, and not an upload host
        "any https host": "https://attacker.invalid/upload/stolen.json",
        "user info": "https://attacker.invalid@contoso-my.sharepoint.com/personal/x/stolen.json",
    }[url]
    after = len(connector.activities)
    status, _ = await secure.post(invoke, headers=bearer(keys.token(connector.url)))
    assert status == 400
    assert connector.uploads == {}, "the export was sent"
    assert connector.all_text(after) == content.t("en", "privacy.file_refused")


@pytest.mark.parametrize(
    "url,allowed",
    [
        ("https://contoso-my.sharepoint.com/personal/mette/Documents/x.json?sig=1", True),
        ("https://contoso.sharepoint.com:443/sites/x/y.json", True),
        ("https://CONTOSO-MY.SharePoint.com/x", True),
        ("https://contoso.onedrive.com/x", True),
        ("https://sharepoint.com/x", False),
        ("https://contoso.sharepoint.com.attacker.invalid/x", False),
        ("https://attackersharepoint.com/x", False),
        ("http://contoso-my.sharepoint.com/x", False),
        ("https://contoso-my.sharepoint.com:8443/x", False),
        ("https://a@contoso-my.sharepoint.com/x", False),
        ("https://attacker.invalid\\@contoso-my.sharepoint.com/x", False),
        ("https://127.0.0.1/x", False),
        ("//contoso-my.sharepoint.com/x", False),
        (None, False),
        (["https://contoso-my.sharepoint.com/x"], False),
    ],
)
def test_upload_hosts_with_an_app_id(url, allowed):
    hosts = upload_hosts(Config(APP_ID="x").UPLOAD_HOSTS)
    assert (upload_target(url, hosts) is not None) == allowed


@pytest.mark.parametrize("value", ["*", "*.com", "com", "*.sharepoint.com/x", "user@host.example", "a.*.example"])
def test_upload_hosts_that_would_match_too_much_stop_start_up(value):
    with pytest.raises(SystemExit):
        upload_hosts(value)


def test_local_mode_has_no_upload_hosts_but_loopback():
    assert Config().upload_hosts is None
    assert upload_target("http://127.0.0.1:5000/upload/x", None) is not None
    assert upload_target("http://[::1]:5000/upload/x", None) is not None
    assert upload_target("http://localhost:5000/upload/x", None) is not None
    assert upload_target("https://contoso-my.sharepoint.com/x", None) is None
