"""Text rules shared by forms, services and search: normalising, comparing, refusing.

Students type in English and Chinese, from phones and from Chinese input methods that
produce full-width letters and ideographic spaces; names are compared after folding
all of that away.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters that show nothing: zero-width spaces and joiners, the BOM, soft hyphen.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_WHITESPACE = re.compile(r"\s+", re.UNICODE)
# Punctuation a name may end with without being a different name ("Acme Ltd.").
_TRAILING_PUNCTUATION = re.compile(r"[\s.,;:!?。，；：！？、]+$")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True when ``value`` holds NUL or another control character.

    Tabs and line breaks are allowed in multi-line text only.
    """
    allowed = "\t\n\r" if multiline else ""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def is_blank(value: str | None) -> bool:
    """True when ``value`` shows nothing: empty, spaces of any kind, invisibles."""
    if not value:
        return True
    visible = value.translate({ord(ch): None for ch in _INVISIBLE})
    return not visible.strip()


def collapse_spaces(value: str) -> str:
    """Every run of Unicode whitespace (ideographic space included) as one space."""
    return _WHITESPACE.sub(" ", value).strip()


def fold(value: str) -> str:
    """``value`` as a comparison key: NFKC, no invisibles, one space, casefolded."""
    value = unicodedata.normalize("NFKC", value or "")
    value = value.translate({ord(ch): None for ch in _INVISIBLE})
    return collapse_spaces(value).casefold()


def name_key(name: str) -> str:
    """The key under which two names count as the same name.

    "ACME  Ltd.", "Acme Ltd" and full-width "ＡＣＭＥ Ｌｔｄ．" share one key.
    """
    return _TRAILING_PUNCTUATION.sub("", fold(name))


#: Legal-form words that do not tell two companies apart ("Acme Ltd" is "Acme").
_COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "集团",
    "公司",
    "incorporated",
    "corporation",
    "company",
    "limited",
    "group",
    "gmbh",
    "corp",
    "inc",
    "ltd",
    "llc",
    "plc",
    "co",
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def company_key(name: str) -> str:
    """The core of a company name: folded, legal forms and punctuation removed.

    "ACME  Ltd.", "Acme Limited" and "ＡＣＭＥ Ｌｔｄ．" all give "acme";
    "杭州某某科技有限公司" gives "杭州某某科技".
    """
    words = [w for w in _NOT_WORD.split(fold(name)) if w]
    while len(words) > 1 and words[-1] in _COMPANY_SUFFIXES:
        words.pop()
    core = "".join(words)
    for suffix in _COMPANY_SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix) and not suffix.isascii():
            core = core[: -len(suffix)]
            break
    return core
