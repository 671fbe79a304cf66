"""Lesson text: a sandboxed Jinja environment for facts, and Markdown for pages.

Lesson authors are trusted less than code: their templates run in Jinja's sandbox,
see only the student's planted facts, and undefined facts render visibly instead of
silently vanishing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup


class MissingFact(Undefined):
    """Shows a missing fact as ``[name?]`` in instructions, so the gap is visible."""

    def __str__(self) -> str:
        return f"[{self._undefined_name}?]"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return MissingFact(name=f"{self._undefined_name}.{name}")


@functools.cache
def template_environment() -> ImmutableSandboxedEnvironment:
    """Strict: a check whose parameters name a missing fact must not run."""
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@functools.cache
def _lenient_environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=MissingFact, autoescape=False)


@functools.lru_cache(maxsize=4096)
def _strict_template(source: str) -> Template:
    return template_environment().from_string(source)


@functools.lru_cache(maxsize=1024)
def _lenient_template(source: str) -> Template:
    return _lenient_environment().from_string(source)


def render_value(value: Any, facts: Mapping[str, Any]) -> Any:
    """``value`` with every string rendered against ``facts`` (lists and tables too).

    :raise jinja2.UndefinedError: a template names a fact the tenant does not have.
    """
    if isinstance(value, str):
        if "{" not in value:
            return value
        return _strict_template(value).render(facts=facts)
    if isinstance(value, Mapping):
        return {key: render_value(item, facts) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [render_value(item, facts) for item in value]
    return value


def render_text(source: str, facts: Mapping[str, Any]) -> str:
    """Instructions with facts filled in; a missing fact shows as ``[name?]``."""
    if "{" not in source:
        return source
    return _lenient_template(source).render(facts=facts)


@functools.cache
def _markdown() -> MarkdownIt:
    # Raw HTML stays text: a lesson's Markdown never injects markup into the page.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


#: A line break inside Chinese text: the browser would show it as a space (只有一个
#: 客户记录), where Chinese puts none. CJK ideographs, kana and full-width punctuation.
_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"
_CJK_BREAK = re.compile(rf"(?<={_CJK})[ \t]*\n[ \t]*(?={_CJK})")


#: A sentence's full stop right after a fact that ends with one ("Acme Corp." then
#: "."), bold or not: the reader sees one stop, not "Acme Corp..". An ellipsis stays.
_DOUBLE_STOP = re.compile(r"(?<=\w\.)(\*\*|\*|_)?\.(?!\.)")


def render_markdown(source: str, facts: Mapping[str, Any] | None = None) -> Markup:
    """Markdown to safe HTML, facts filled in first; a line wrapped inside Chinese
    text joins up without a space, and a fact ending in a full stop at the end of a
    sentence shows one stop."""
    text = _CJK_BREAK.sub("", render_text(source, facts or {}))
    text = _DOUBLE_STOP.sub(lambda m: m.group(1) or "", text)
    return Markup(_markdown().render(text))  # noqa: S704 - markdown-it escapes HTML
