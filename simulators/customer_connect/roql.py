"""A small parser for the ``q=`` filter of Connect REST collection queries.

Connect REST lets a collection GET carry a ROQL *where clause* in ``q`` (for example
``statusWithType.statusType.id = 1 and updatedTime > '2024-03-01T00:00:00Z'``). The simulator understands
the subset an integration needs: comparisons (``= != <> < <= > >= like``) between a dotted field name and
an integer or single-quoted string literal, combined with ``and``/``or`` and parentheses. Anything else is a
:class:`QueryError`, which the API turns into a 400, as a real site rejects a malformed query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BoolOp", "Comparison", "Expr", "QueryError", "parse_where"]


class QueryError(ValueError):
    """The ``q`` parameter is not a where clause this simulator understands."""


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: str  # one of = != < <= > >= like
    value: int | str


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Expr, ...]


Expr = Comparison | BoolOp

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+)(?![\w.])|(?P<str>'(?:[^']|'')*')|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<lp>\()|(?P<rp>\)))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise QueryError("the where clause ends too early")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].lower() == word:
            self.i += 1
            return True
        return False

    def expr(self) -> Expr:
        items = [self.term()]
        while self.keyword("or"):
            items.append(self.term())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def term(self) -> Expr:
        items = [self.factor()]
        while self.keyword("and"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def factor(self) -> Expr:
        kind, text = self.take()
        if kind == "lp":
            inner = self.expr()
            if self.take()[0] != "rp":
                raise QueryError("missing closing parenthesis")
            return inner
        if kind != "word" or text.lower() in {"and", "or", "like"}:
            raise QueryError(f"expected a field name, found {text!r}")
        op_kind, op = self.take()
        if op_kind == "word" and op.lower() == "like":
            op = "like"
        elif op_kind != "op":
            raise QueryError(f"expected a comparison after {text!r}, found {op!r}")
        op = "!=" if op == "<>" else op
        value_kind, raw = self.take()
        value: int | str
        if value_kind == "num":
            value = int(raw)
        elif value_kind == "str":
            value = raw[1:-1].replace("''", "'")
        else:
            raise QueryError(f"expected a number or a quoted string after {text} {op}, found {raw!r}")
        if op == "like" and not isinstance(value, str):
            raise QueryError("like needs a quoted pattern")
        return Comparison(text, op, value)


def parse_where(text: str) -> Expr:
    """Parse a where clause; raises :class:`QueryError` on anything outside the supported subset."""
    if not text.strip():
        raise QueryError("empty where clause")
    parser = _Parser(_tokens(text))
    result = parser.expr()
    if parser.peek() is not None:
        raise QueryError(f"unexpected {parser.peek()[1]!r} after the where clause")  # type: ignore[index]
    return result
