"""The catalogues' message syntax: a subset of ICU MessageFormat, parsed and formatted.

A message is text with arguments: ``{name}`` inserts a value, and
``{count, plural, one {# block} few {# blocks} other {# blocks}}`` picks the branch for
the language's plural category of ``count`` (CLDR rules, through Babel) or an exact
``=N`` branch, with ``#`` standing for the number formatted for the language. Branches
may hold arguments themselves. There is no apostrophe quoting: braces are always syntax.
``static/i18n.js`` formats the same syntax in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CATEGORIES = ("zero", "one", "two", "few", "many", "other")


class MessageSyntaxError(ValueError):
    """A catalogue message that is not valid in the subset: fix the catalogue."""


@dataclass(frozen=True)
class Arg:
    name: str


@dataclass(frozen=True)
class Plural:
    name: str
    branches: dict[str, Message]  # category or "=N" → message


@dataclass(frozen=True)
class Pound:
    """``#`` inside a plural branch."""


Part = str | Arg | Plural | Pound
Message = tuple[Part, ...]


def parse(text: str) -> Message:
    """``text`` as parts; ``MessageSyntaxError`` saying where it is malformed."""
    parts, end = _parse(text, 0, in_plural=False)
    if end != len(text):
        raise MessageSyntaxError(f"unbalanced '}}' at {end} in {text!r}")
    return parts


def _parse(text: str, i: int, in_plural: bool) -> tuple[Message, int]:
    parts: list[Part] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            parts.append("".join(buf))
            buf.clear()

    while i < len(text):
        c = text[i]
        if c == "}":
            break
        if c == "#" and in_plural:
            flush()
            parts.append(Pound())
            i += 1
        elif c == "{":
            flush()
            part, i = _argument(text, i + 1)
            parts.append(part)
        else:
            buf.append(c)
            i += 1
    flush()
    return tuple(parts), i


def _argument(text: str, i: int) -> tuple[Arg | Plural, int]:
    close = _find_any(text, i, "},")
    name = text[i:close].strip()
    if not name.isidentifier():
        raise MessageSyntaxError(f"bad argument name {name!r} in {text!r}")
    if text[close] == "}":
        return Arg(name), close + 1
    kind_end = _find_any(text, close + 1, ",}")
    kind = text[close + 1 : kind_end].strip()
    if kind != "plural" or text[kind_end] != ",":
        raise MessageSyntaxError(f"only {{name}} and {{name, plural, ...}} are supported: {text!r}")
    i = kind_end + 1
    branches: dict[str, Message] = {}
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            raise MessageSyntaxError(f"unterminated plural in {text!r}")
        if text[i] == "}":
            break
        brace = text.find("{", i)
        if brace < 0:
            raise MessageSyntaxError(f"plural branch without a message in {text!r}")
        selector = text[i:brace].strip()
        if selector not in CATEGORIES and not (selector[:1] == "=" and selector[1:].isdigit()):
            raise MessageSyntaxError(f"unknown plural selector {selector!r} in {text!r}")
        body, end = _parse(text, brace + 1, in_plural=True)
        if end >= len(text) or text[end] != "}":
            raise MessageSyntaxError(f"unterminated plural branch in {text!r}")
        branches[selector] = body
        i = end + 1
    if "other" not in branches:
        raise MessageSyntaxError(f"a plural needs an 'other' branch: {text!r}")
    return Plural(name, branches), i + 1


def _find_any(text: str, i: int, chars: str) -> int:
    for j in range(i, len(text)):
        if text[j] in chars:
            return j
    raise MessageSyntaxError(f"unterminated argument in {text!r}")


def arguments(message: Message) -> set[str]:
    """Every argument name a message uses (plural counts included)."""
    names: set[str] = set()
    for part in message:
        if isinstance(part, Arg):
            names.add(part.name)
        elif isinstance(part, Plural):
            names.add(part.name)
            for branch in part.branches.values():
                names |= arguments(branch)
    return names


def plurals(message: Message) -> list[Plural]:
    """The plural arguments of a message, outermost first."""
    found: list[Plural] = []
    for part in message:
        if isinstance(part, Plural):
            found.append(part)
            for branch in part.branches.values():
                found += plurals(branch)
    return found


def render(
    message: Message,
    values: dict[str, object],
    category: Callable[[float], str],
    number: Callable[[float], str],
    count: float | None = None,
) -> str:
    """The message with ``values`` filled in: numbers through ``number``, plural branches by
    ``category`` (the language's CLDR plural rule); a missing value leaves ``{name}``."""
    out: list[str] = []
    for part in message:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Pound):
            out.append(number(count) if count is not None else "#")
        elif isinstance(part, Arg):
            out.append(_value(values, part.name, number))
        else:
            n = values.get(part.name)
            if not isinstance(n, int | float):
                out.append("{" + part.name + "}")
                continue
            exact = f"={n:g}"
            branch = part.branches.get(exact) or part.branches.get(category(n))
            out.append(render(branch or part.branches["other"], values, category, number, n))
    return "".join(out)


def _value(values: dict[str, object], name: str, number: Callable[[float], str]) -> str:
    if name not in values:
        return "{" + name + "}"
    v = values[name]
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int | float):
        return number(v)
    return str(v)
