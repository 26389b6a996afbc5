"""A small parser for ROQL, the query language of Connect REST: where clauses and tabular queries.

Connect REST lets a collection GET carry a ROQL *where clause* in ``q`` (for example
``statusWithType.statusType.id = 1 and updatedTime > '2024-03-01T00:00:00Z'``). The simulator understands
the subset an integration needs: comparisons (``= != <> < <= > >= like``) between a dotted field name and
an integer or single-quoted string literal, ``is null`` / ``is not null``, combined with ``and``/``or``
and parentheses.

The ``queryResults`` resource takes tabular queries (REST API for Accessing Data, "Run ROQL Tabular
Queries"): ``?query=`` holds one or more ROQL statements separated by semicolons, each
``SELECT columns FROM object [WHERE clause] [ORDER BY field [ASC|DESC], …] [LIMIT n] [OFFSET n]``;
:func:`parse_queries` reads them. Columns are dotted field names, ``*`` or ``COUNT(*)``; keywords are
case-insensitive. Anything else is a :class:`QueryError`, which the API turns into a 400, as a real site
rejects a malformed query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BoolOp", "Comparison", "Expr", "QueryError", "SelectQuery", "parse_queries", "parse_where"]


class QueryError(ValueError):
    """The ``q`` parameter is not a where clause this simulator understands."""


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: str  # one of = != < <= > >= like, "is null", "is not null"
    value: int | str | None


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Expr, ...]


Expr = Comparison | BoolOp

COUNT_ALL = "count(*)"


@dataclass(frozen=True, slots=True)
class SelectQuery:
    """One tabular statement. ``columns`` holds field names as written, ``*`` or :data:`COUNT_ALL`."""

    columns: tuple[str, ...]
    table: str
    where: Expr | None = None
    order_by: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    limit: int | None = None
    offset: int = 0


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+)(?![\w.])|(?P<str>'(?:[^']|'')*')|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<lp>\()|(?P<rp>\))|(?P<star>\*)|(?P<comma>,))"
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
        if kind != "word" or text.lower() in _RESERVED:
            raise QueryError(f"expected a field name, found {text!r}")
        if self.keyword("is"):
            negated = self.keyword("not")
            if not self.keyword("null"):
                raise QueryError(f"expected null after {text} is")
            return Comparison(text, "is not null" if negated else "is null", None)
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


_RESERVED = frozenset(
    {"and", "or", "like", "is", "not", "null", "select", "from", "where", "order", "by", "limit", "offset"}
)


class _SelectParser(_Parser):
    def number(self, after: str) -> int:
        kind, raw = self.take()
        if kind != "num" or int(raw) < 0:
            raise QueryError(f"{after} needs a non-negative whole number, found {raw!r}")
        return int(raw)

    def columns(self) -> tuple[str, ...]:
        out: list[str] = []
        while True:
            kind, text = self.take()
            if kind == "star":
                out.append("*")
            elif kind == "word" and text.lower() == "count" and self.peek() == ("lp", "("):
                if [self.take()[0] for _ in range(3)] != ["lp", "star", "rp"]:
                    raise QueryError("only COUNT(*) is supported")
                out.append(COUNT_ALL)
            elif kind == "word" and text.lower() not in _RESERVED:
                out.append(text)
            else:
                raise QueryError(f"expected a column, found {text!r}")
            if self.peek() != ("comma", ","):
                return tuple(out)
            self.take()

    def select(self) -> SelectQuery:
        if not self.keyword("select"):
            raise QueryError("a query starts with SELECT")
        columns = self.columns()
        if not self.keyword("from"):
            raise QueryError("expected FROM after the columns")
        kind, table = self.take()
        if kind != "word" or table.lower() in _RESERVED:
            raise QueryError(f"expected an object name after FROM, found {table!r}")
        where = self.expr() if self.keyword("where") else None
        order: list[tuple[str, bool]] = []
        if self.keyword("order"):
            if not self.keyword("by"):
                raise QueryError("expected BY after ORDER")
            while True:
                kind, name = self.take()
                if kind != "word" or name.lower() in _RESERVED:
                    raise QueryError(f"expected a field to order by, found {name!r}")
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((name, descending))
                if self.peek() != ("comma", ","):
                    break
                self.take()
        limit = self.number("LIMIT") if self.keyword("limit") else None
        offset = self.number("OFFSET") if self.keyword("offset") else 0
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek()[1]!r} in the query")  # type: ignore[index]
        return SelectQuery(columns, table, where, tuple(order), limit, offset)


def _statements(text: str) -> list[str]:
    """Split on semicolons outside quoted strings; empty statements (a trailing ``;``) are dropped."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == "'":
            quoted = not quoted  # a doubled '' toggles twice, which keeps the state right
        if ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise QueryError("unterminated quoted string")
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def parse_queries(text: str) -> list[SelectQuery]:
    """The semicolon-separated statements of a ``queryResults`` ``query`` parameter, in order."""
    statements = _statements(text)
    if not statements:
        raise QueryError("the query parameter holds no statement")
    return [_SelectParser(_tokens(s)).select() for s in statements]


def parse_where(text: str) -> Expr:
    """Parse a where clause; raises :class:`QueryError` on anything outside the supported subset."""
    if not text.strip():
        raise QueryError("empty where clause")
    parser = _Parser(_tokens(text))
    result = parser.expr()
    if parser.peek() is not None:
        raise QueryError(f"unexpected {parser.peek()[1]!r} after the where clause")  # type: ignore[index]
    return result
