"""HUB_SMTP_URL parsing, the Message-ID, message building and the text mail templates."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.mail_templates import MailTemplateError, MailTemplates, render_mail
from connectors.smtp import SmtpConfig, build_message, message_id
from core.mail import MailMessage
from core.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, "plain", None, None)),
        ("smtp://u:p@mail.example.org?starttls=1", ("mail.example.org", 587, "starttls", "u", "p")),
        ("smtps://u%40x:p%2Fq@127.0.0.1:2465", ("127.0.0.1", 2465, "tls", "u@x", "p/q")),
        ("smtp://127.0.0.1:2525?starttls=0", ("127.0.0.1", 2525, "plain", None, None)),
    ],
)
def test_from_url(url: str, expected: tuple[object, ...]) -> None:
    c = SmtpConfig.from_url(url)
    assert (c.host, c.port, c.security, c.username, c.password) == expected


def test_options_and_secret_not_in_repr() -> None:
    c = SmtpConfig.from_url(
        "smtp://u:hunter2@h:25?from=hub@utility.example.org&timeout=2.5&verify=0&helo=hub1"
    )
    assert (c.from_addr, c.timeout, c.verify, c.helo, c.domain) == (
        "hub@utility.example.org",
        2.5,
        False,
        "hub1",
        "utility.example.org",
    )
    assert "hunter2" not in repr(c)


@pytest.mark.parametrize(
    "url",
    [
        "http://h",
        "smtp://",
        "smtp://h:99999",
        "smtp://h:port",
        "smtps://h?starttls=1",
        "smtp://h?starttls=maybe",
        "smtp://h?tls=1",
        "smtp://h/path",
        "smtp://:p@h",
        "smtp://u@h",
        "smtp://h?from=not-an-address",
        "smtp://h?timeout=0",
        "smtp://h?timeout=soon",
    ],
)
def test_malformed_urls_name_the_setting(url: str) -> None:
    with pytest.raises(SettingsError) as err:
        SmtpConfig.from_url(url)
    assert err.value.key == "HUB_SMTP_URL"
    assert "HUB_SMTP_URL" in str(err.value)


def test_settings_accept_smtp_urls_now_that_the_connector_exists() -> None:
    s = load_settings({"HUB_SMTP_URL": "smtp://127.0.0.1:2525"}, config_path=None)
    assert s.smtp_url == "smtp://127.0.0.1:2525"


def test_message_id_is_stable_and_message_is_well_formed() -> None:
    at = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert message_id(42, at, "x.org") == message_id(42, at, "x.org") == "<hub-42.1735787045000@x.org>"
    row = MailMessage(
        id=42, created_at=at, source="cash", to_addrs="a@x.org,b@x.org", subject="Ünïcode", body="héllo\n"
    )
    raw = build_message(row, SmtpConfig.from_url("smtp://h?from=hub@x.org"))
    assert b"Message-ID: <hub-42.1735787045000@x.org>" in raw
    assert b"To: a@x.org, b@x.org" in raw
    assert b"Subject: =?utf-8?" in raw
    assert b"Auto-Submitted: auto-generated" in raw


def test_shared_templates_render() -> None:
    subject, body = render_mail(
        "drawer_unbalanced.txt",
        drawer_id="D3",
        location="CSC window 2",
        closed_by="jdoe",
        closed_at="17:02",
        expected="$1,200.00",
        counted="$1,180.00",
        difference="-$20.00",
    )
    assert subject == "Cash drawer D3 is out of balance by -$20.00"
    assert "Counted:    $1,180.00" in body and body.endswith("\n")
    subject, body = render_mail(
        "terminal_failed.txt",
        terminal_id="T7",
        location="lobby",
        failed_at="09:00",
        check="tamper",
        error="seal broken",
    )
    assert subject == "Payment terminal T7 failed its check" and "seal broken" in body
    subject, body = render_mail("generic.txt", subject="Hello", body="a < b & c")
    assert subject == "Hello" and body.startswith("a < b & c\n")  # no HTML escaping in text mail
    _, with_link = render_mail("generic.txt", subject="Hi", body="x", link="https://hub/ui/outbox")
    assert "https://hub/ui/outbox" in with_link


def test_missing_values_and_bad_templates_raise(tmp_path: object) -> None:
    with pytest.raises(MailTemplateError, match="drawer_id"):
        render_mail("drawer_unbalanced.txt", location="x")
    with pytest.raises(MailTemplateError, match="no mail template"):
        render_mail("nope.txt")
    from pathlib import Path

    d = Path(str(tmp_path))
    (d / "bad.txt").write_text("Hello {{ name }}\n\nbody\n")
    with pytest.raises(MailTemplateError, match="Subject"):
        MailTemplates(d).render("bad.txt", name="x")


def test_ascii_fast_path_parses_like_the_stdlib_path() -> None:
    from email import message_from_bytes
    from email.policy import default

    at = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    config = SmtpConfig.from_url("smtp://h?from=hub@x.org")
    row = MailMessage(
        id=7, created_at=at, source="cash", to_addrs="a@x.org", subject="Drawer 3", body="a\n.b\n"
    )
    parsed = message_from_bytes(build_message(row, config), policy=default)
    assert parsed["Message-ID"] == "<hub-7.1735787045000@x.org>"
    assert parsed["Subject"] == "Drawer 3" and parsed["Auto-Submitted"] == "auto-generated"
    assert (
        parsed.get_content().replace("\r\n", "\n") == "a\n.b\n"
    )  # dot-stuffing is the SMTP client's job, not ours
    # A header value that could smuggle a line break never takes the fast path.
    evil = MailMessage(
        id=8, created_at=at, source="x", to_addrs="a@x.org", subject="Hi\rBcc: z@x.org", body="b"
    )
    with pytest.raises(ValueError):
        build_message(evil, config)
