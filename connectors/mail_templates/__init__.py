"""Plain-text mail templates and :func:`render_mail`, for plugins that queue mail through ``ctx.mail``.

A template is Jinja2 text whose first line is ``Subject: …`` followed by one blank line and the body::

    Subject: Drawer {{ drawer_id }} is out of balance

    Counted {{ counted }} against {{ expected }} expected.

Autoescaping is off (this is text, not HTML) and undefined variables raise, so a typo in a context key
fails the caller's test instead of mailing a blank. Plugins may keep their own templates in a directory
and render them with :class:`MailTemplates`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent
_SUBJECT_PREFIX = "Subject:"


class MailTemplateError(ValueError):
    """A template is missing, does not start with a subject line, or needs a value it was not given."""


class MailTemplates:
    """A set of text mail templates loaded from one or more directories (earlier ones win)."""

    def __init__(self, *directories: str | Path) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in directories]),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            # Block tags on their own line leave no blank line behind, which matters in plain text.
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, template_name: str, **context: Any) -> tuple[str, str]:
        """Render ``template_name``; returns ``(subject, body)`` ready for ``Mailer.queue``."""
        try:
            text = self.env.get_template(template_name).render(**context)
        except jinja2.TemplateNotFound:
            raise MailTemplateError(f"no mail template {template_name!r}") from None
        except jinja2.UndefinedError as exc:
            raise MailTemplateError(f"{template_name}: {exc.message}") from None
        head, sep, body = text.partition("\n\n")
        if not sep or not head.startswith(_SUBJECT_PREFIX) or "\n" in head:
            raise MailTemplateError(
                f"{template_name}: must start with one 'Subject: …' line and a blank line"
            )
        subject = head[len(_SUBJECT_PREFIX) :].strip()
        if not subject or len(subject) > 200:
            raise MailTemplateError(f"{template_name}: the subject must be 1-200 characters")
        return subject, body.rstrip() + "\n"


@cache
def default_templates() -> MailTemplates:
    return MailTemplates(TEMPLATE_DIR)


def render_mail(template_name: str, **context: Any) -> tuple[str, str]:
    """Render one of the hub's shared mail templates (``generic.txt``, ``drawer_unbalanced.txt``, …)."""
    return default_templates().render(template_name, **context)


__all__ = ["TEMPLATE_DIR", "MailTemplateError", "MailTemplates", "default_templates", "render_mail"]
