"""Integration links over real HTTP: WHMCS's Application Links `batch` (create_integration_group
and create_integration_link, then removal), the WHM functions' answers and refusals, and UAPI
`Integration::fetch_url` against a real HTTP receiver on loopback standing in for the billing
system's autologin endpoint (attempts, retry, fallback to `url`, failures)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conftest import Server

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


class Receiver:
    """The billing system's autologin endpoint: records each POSTed form and answers the next
    of `answers` (status, body)."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.answers: list[tuple[int, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                receiver.forms.append(dict(urllib.parse.parse_qsl(body)))
                status, text = receiver.answers.pop(0) if receiver.answers else (200, "{}")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(text.encode())

            def do_GET(self) -> None:
                # Where an autologin answer may send the browser: the billing system's page.
                page = b"<!doctype html><title>Billing</title><h1>Welcome to billing</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/token.php"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.token = server.account_with_token()

    def whm(self, function: str, **params: Any) -> Any:
        return self.server.get(function, params={"user": self.user, **params}).json()

    def ok(self, function: str, **params: Any) -> Any:
        body = self.whm(function, **params)
        assert body["metadata"]["result"] == 1, body
        return body.get("data")

    def fetch(self, app: str) -> Any:
        return self.server.uapi(self.user, "Integration", "fetch_url", token=self.token,
                                app=app).json()  # fmt: skip


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def test_whmcs_application_links_batch(server: Server, account: Account) -> None:
    """cpanel_CreateApplicationLink: one batch of create_integration_group and a
    create_integration_link per app, each command `FUNC?` + urlencoded http_build_query."""
    secret = server.remember(secrets.token_hex(16))
    group = {"api.version": 1, "user": account.user, "group_id": "whmcs",
             "label": "Billing & Support", "order": "1"}  # fmt: skip
    link = {"api.version": 1, "user": account.user, "subscriber_unique_id": "client-42",
            "url": "https://billing.example.com/clientarea.php?ssoredirect=1", "token": secret,
            "autologin_token_url": "https://billing.example.com/oauth/token.php?scope=x",
            "app": "whmcs_billing", "label": "Billing", "order": "2",
            "implements": "billing", "group_id": "whmcs"}  # fmt: skip
    commands = [
        ("command", "create_integration_group?" + urllib.parse.urlencode(group)),
        ("command", "create_integration_link?" + urllib.parse.urlencode(link)),
    ]
    body = server.get("batch", params=commands).json()
    assert body["metadata"]["result"] == 1, body
    assert account.ok("list_integration_links") == {"links": [{"app": "whmcs_billing"}]}
    assert account.ok("list_integration_groups") == {"links": [{"group": "whmcs"}]}
    config = account.ok("get_integration_link_user_config", app="whmcs_billing")["userconfig"]
    assert config == {
        "autologin_token_url": link["autologin_token_url"],
        "group_id": "whmcs",
        "implements": "billing",
        "label": "Billing",
        "order": "2",
        "subscriber_unique_id": "client-42",
        "url": link["url"],
    }
    assert secret not in json.dumps(config)
    # cpanel_DeleteApplicationLink
    removal = [
        ("command", "remove_integration_group?" + urllib.parse.urlencode(
            {"api.version": 1, "user": account.user, "group_id": "whmcs"})),
        ("command", "remove_integration_link?" + urllib.parse.urlencode(
            {"api.version": 1, "user": account.user, "app": "whmcs_billing"})),
    ]  # fmt: skip
    assert server.get("batch", params=removal).json()["metadata"]["result"] == 1
    assert account.ok("list_integration_links") == {"links": []}
    assert account.ok("list_integration_groups") == {"links": []}


def test_creating_an_existing_app_replaces_it(account: Account) -> None:
    account.ok("create_integration_link", app="a1", url="https://one.example/")
    account.ok("create_integration_link", app="a1", url="https://two.example/", label="Two")
    assert account.ok("get_integration_link_user_config", app="a1")["userconfig"] == {
        "label": "Two",
        "url": "https://two.example/",
    }


def test_removing_what_does_not_exist_is_no_error(account: Account) -> None:
    account.ok("remove_integration_link", app="never")
    account.ok("remove_integration_group", group_id="never")


@pytest.mark.parametrize(
    ("function", "params", "reason"),
    [
        ("create_integration_link", {"app": "x"},
         "You must supply one of the following parameters: autologin_token_url url"),
        ("create_integration_link", {"app": "group_x", "url": "https://a.example/"},
         "The “app” argument cannot begin with “group_”."),
        ("create_integration_link", {"app": "a/b", "url": "https://a.example/"},
         "The “app” argument may not contain “/” or a NUL byte."),
        ("create_integration_link", {"app": "..", "url": "https://a.example/"},
         "“..” is a reserved name: it cannot be the “app”."),
        ("create_integration_link", {"app": "x", "url": "https://a.example/", "label": "It's"},
         "The parameter “label” may not contain single-quote characters (')."),
        ("create_integration_link", {"app": "x", "url": "https://a.example/",
                                     "base64_png_image": "not base64!"},
         "“base64_png_image” is not valid Base64."),
        ("create_integration_link", {"app": "x", "url": "https://a.example/",
                                     "base64_png_image": base64.b64encode(b"GIF89a").decode()},
         "“base64_png_image” is not a valid PNG image."),
        ("create_integration_link", {"app": "x", "url": "javascript:alert(1)"},
         "The “url” must be an http:// or https:// URL."),
        ("create_integration_group", {"group_id": "group_x"},
         "The “group_id” argument cannot begin with “group_”."),
        ("update_integration_link_token", {"app": "none", "token": "t"},
         "The user “{u}” has no integration link “none”."),
        ("get_integration_link_user_config", {"app": "none"},
         "The user “{u}” has no integration link “none”."),
    ],
)  # fmt: skip
def test_refusals_change_nothing(
    account: Account, function: str, params: dict[str, str], reason: str
) -> None:
    body = account.whm(function, **params)
    assert body["metadata"]["result"] == 0, body
    assert body["metadata"]["reason"] == reason.replace("{u}", account.user)
    assert account.ok("list_integration_links") == {"links": []}
    assert account.ok("list_integration_groups") == {"links": []}


def test_an_icon_and_hide_are_kept(account: Account) -> None:
    account.ok("create_integration_link", app="i", url="https://a.example/",
               base64_png_image=PNG, hide="1")  # fmt: skip
    config = account.ok("get_integration_link_user_config", app="i")["userconfig"]
    assert (config["base64_png_image"], config["hide"]) == (PNG, "1")


def test_a_reseller_reaches_only_its_own_accounts(server: Server, account: Account) -> None:
    reseller, token = server.reseller()
    owned, _ = server.account(owner=reseller)
    made = server.get("create_integration_link", user=reseller, token=token,
                      params={"user": owned, "app": "x", "url": "https://a.example/"})  # fmt: skip
    assert made.json()["metadata"]["result"] == 1, made.text
    refused = server.get("create_integration_link", user=reseller, token=token,
                         params={"user": account.user, "app": "x",
                                 "url": "https://a.example/"})  # fmt: skip
    assert refused.json()["metadata"]["result"] == 0
    assert account.ok("list_integration_links") == {"links": []}


def test_links_go_with_the_account(server: Server) -> None:
    acct = Account(server)
    acct.ok("create_integration_link", app="x", url="https://a.example/", token="t0ken-gone")
    server.ok("removeacct", params={"user": acct.user})
    orphans = server.sql(
        "SELECT COUNT(*) AS n FROM integration_links WHERE user_id NOT IN (SELECT id FROM users)"
    )
    assert orphans[0].n == 0


# -- fetch_url -------------------------------------------------------------------------------


def test_fetch_url_asks_the_autologin_url(
    server: Server, account: Account, receiver: Receiver
) -> None:
    secret = server.remember(secrets.token_hex(16))
    account.ok("create_integration_link", app="billing", url="https://billing.example/",
               autologin_token_url=receiver.url, token=secret,
               subscriber_unique_id="client-42", label="Billing")  # fmt: skip
    receiver.answers.append((200, json.dumps({"redirect_url": "https://billing.example/sso?t=1"})))
    body = account.fetch("billing")
    assert body["status"] == 1, body
    assert body["data"] == {
        "redirect_url": "https://billing.example/sso?t=1",
        "url": "https://billing.example/",
    }
    assert receiver.forms == [
        {
            "attempt": "1",
            "label": "Billing",
            "subscriber_unique_id": "client-42",
            "token": secret,
            "url": "https://billing.example/",
        }
    ]


def test_fetch_url_retries_when_told(account: Account, receiver: Receiver) -> None:
    account.ok("create_integration_link", app="b", autologin_token_url=receiver.url, token="t1")
    # `retry`: seconds to wait (a token being renewed); 0 or none ends the asking.
    receiver.answers += [
        (200, json.dumps({"retry": 1, "attempt": 1})),
        (200, json.dumps({"redirect_url": "https://billing.example/in"})),
    ]
    body = account.fetch("b")
    assert body["data"]["redirect_url"] == "https://billing.example/in"
    assert [f["attempt"] for f in receiver.forms] == ["1", "2"]


def test_fetch_url_asks_at_most_three_times(account: Account, receiver: Receiver) -> None:
    account.ok("create_integration_link", app="b", autologin_token_url=receiver.url)
    receiver.answers += [(200, json.dumps({"retry": 1}))] * 4
    body = account.fetch("b")
    assert body["status"] == 1, body
    assert body["data"] == {"retry": 1}  # no redirect_url: the page then says so
    assert [f["attempt"] for f in receiver.forms] == ["1", "2", "3"]


def test_a_new_token_is_what_is_shown(account: Account, receiver: Receiver) -> None:
    account.ok("create_integration_link", app="b", autologin_token_url=receiver.url, token="old")
    account.ok("update_integration_link_token", app="b", token="new-token")
    receiver.answers.append((200, json.dumps({"redirect_url": "https://x.example/"})))
    account.fetch("b")
    assert receiver.forms[0]["token"] == "new-token"


def test_a_failing_autologin_falls_back_to_url(account: Account, receiver: Receiver) -> None:
    account.ok("create_integration_link", app="b", autologin_token_url=receiver.url,
               url="https://billing.example/login")  # fmt: skip
    receiver.answers.append((500, "oops"))
    body = account.fetch("b")
    assert body["data"] == {"redirect_url": "https://billing.example/login"}


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ((500, "oops"), "500 Internal Server Error"),
        ((200, "not json"), None),
        ((200, "[1, 2]"), None),
    ],
)
def test_a_failing_autologin_without_url_fails(
    account: Account, receiver: Receiver, answer: tuple[int, str], why: str | None
) -> None:
    account.ok("create_integration_link", app="b", autologin_token_url=receiver.url)
    receiver.answers.append(answer)
    body = account.fetch("b")
    assert body["status"] == 0, body
    error = body["errors"][0]
    assert error.startswith(
        "The system failed to call “FETCH_AUTO_LOGIN_URL” because of an error: The system was "
        "unable to "
    )
    assert receiver.url in error
    if why:
        assert error.endswith(why)


def test_fetch_url_of_a_plain_link(account: Account) -> None:
    account.ok("create_integration_link", app="p", url="https://help.example/")
    assert account.fetch("p")["data"] == {"redirect_url": "https://help.example/"}


def test_fetch_url_of_no_link(account: Account) -> None:
    body = account.fetch("nothing")
    assert body["errors"] == [
        "The system did not find a valid integration configuration for the application "
        f"“nothing” for the user “{account.user}”."
    ]


def test_another_accounts_link_is_not_reached(server: Server, account: Account) -> None:
    other = Account(server)
    other.ok("create_integration_link", app="mine", url="https://other.example/")
    assert account.fetch("mine")["status"] == 0
    assert other.fetch("mine")["data"] == {"redirect_url": "https://other.example/"}


def test_names_are_kept_apart_per_account(server: Server) -> None:
    one, two = Account(server), Account(server)
    app = f"app{uuid.uuid4().hex[:6]}"
    one.ok("create_integration_link", app=app, url="https://one.example/")
    two.ok("create_integration_link", app=app, url="https://two.example/")
    assert one.fetch(app)["data"]["redirect_url"] == "https://one.example/"
    assert two.fetch(app)["data"]["redirect_url"] == "https://two.example/"


# -- the cPanel pages ------------------------------------------------------------------------


def _signed_in(server: Server, user: str) -> tuple[httpx.Client, str]:
    """An HTTP client holding a cPanel session of `user`, and its /cpsessN prefix."""
    data = server.ok("create_user_session", params={"user": user, "service": "cpaneld"})
    parts = urllib.parse.urlsplit(data["url"])
    client = httpx.Client(base_url=server.cpanel_url, follow_redirects=False, timeout=30)
    landed = client.get(f"{parts.path}?{parts.query}")
    assert landed.status_code in (302, 303), landed.text
    prefix = urllib.parse.urlsplit(landed.headers["location"]).path.rstrip("/")
    return client, prefix


def test_the_home_page_lists_links_by_group_and_follows_them(
    server: Server, account: Account, receiver: Receiver
) -> None:
    account.ok("create_integration_group", group_id="whmcs", label="Billing & Support",
               order="1")  # fmt: skip
    account.ok("create_integration_link", app="billing", label="Billing", group_id="whmcs",
               autologin_token_url=receiver.url, url="https://billing.example/")  # fmt: skip
    account.ok("create_integration_link", app="hidden", label="Secret place", hide="1",
               url="https://hidden.example/")  # fmt: skip
    client, prefix = _signed_in(server, account.user)
    try:
        home = client.get(f"{prefix}/")
        assert home.status_code == 200
        assert "Billing &amp; Support" in home.text
        assert f'href="{prefix}/integration/index.html?app=billing"' in home.text
        assert "Secret place" not in home.text
        receiver.answers.append((200, json.dumps({"redirect_url": "https://billing.example/sso"})))
        followed = client.get(f"{prefix}/frontend/jupiter/integration/index.html?app=billing")
        assert (followed.status_code, followed.headers["location"]) == (
            302,
            "https://billing.example/sso",
        )
        # An answer without an address to go to is said, not followed.
        receiver.answers.append((200, json.dumps({"redirect_url": "javascript:alert(1)"})))
        refused = client.get(f"{prefix}/integration/index.html?app=billing")
        assert refused.status_code == 502
        assert "did not give an address" in refused.text
        missing = client.get(f"{prefix}/integration/index.html?app=nothing")
        assert missing.status_code == 400
    finally:
        client.close()


def test_following_needs_a_session(server: Server, account: Account) -> None:
    account.ok("create_integration_link", app="p", url="https://help.example/")
    anonymous = httpx.get(f"{server.cpanel_url}/cpsess0000000000/integration/index.html?app=p",
                          follow_redirects=False)  # fmt: skip
    assert anonymous.status_code == 401


def test_whmcs_sees_application_linking_supported(server: Server) -> None:
    """cpanel_IsApplicationLinkingSupportedByServer: applist's data.app lists
    create_integration_link."""
    body = server.get("applist").json()
    assert body["metadata"]["result"] == 1
    assert "create_integration_link" in body["data"]["app"]


def test_a_link_opened_from_the_home_page_in_a_browser(
    server: Server, account: Account, receiver: Receiver, page: Any
) -> None:
    """Headless Chromium: the link on the home page opens a new window, which the server's
    autologin sends on to the billing system's page."""
    account.ok("create_integration_group", group_id="whmcs", label="Billing & Support")
    account.ok("create_integration_link", app="billing", label="Billing", group_id="whmcs",
               autologin_token_url=receiver.url)  # fmt: skip
    sso = receiver.url.replace("/token.php", "/sso")
    receiver.answers.append((200, json.dumps({"redirect_url": sso})))
    data = server.ok("create_user_session", params={"user": account.user, "service": "cpaneld"})
    parts = urllib.parse.urlsplit(data["url"])
    page.goto(f"{server.cpanel_url}{parts.path}?{parts.query}")
    assert page.get_by_role("heading", name="Billing & Support").is_visible()
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Billing").click()
    billing = opened.value
    billing.wait_for_load_state()
    assert billing.url == sso
    assert billing.get_by_role("heading", name="Welcome to billing").is_visible()
    assert receiver.forms and receiver.forms[0]["attempt"] == "1"
