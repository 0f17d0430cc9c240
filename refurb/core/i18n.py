"""Marking of translatable text in pure code.

The domain speaks English message ids; the web layer translates them for the
reader (French by default). Keeping the marker here lets `core/` stay free of
any i18n machinery while the extractor still finds every message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ("N_", "Np_", "Plural", "fill")


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


class Plural(str):
    """A message id with its plural form; the count is the param named `key` (`count`).

    It is the singular (a plain `str` everywhere else); `fill` gives it the
    count, and the web layer's `gettext` then picks the form the reader's
    language needs (French: 0 and 1 are singular).
    """

    plural: str
    key: str
    count: int | None

    def __new__(cls, singular: str, plural: str, key: str = "count", count: int | None = None) -> Plural:
        """The singular as the string, with the plural and maybe a count alongside."""
        message = super().__new__(cls, singular)
        message.plural = plural
        message.key = key
        message.count = count
        return message

    def counted(self, count: int) -> Plural:
        """The same message for `count` things."""
        return Plural(str(self), self.plural, self.key, count)

    def english(self) -> str:
        """The English form for the count (untranslated)."""
        return str(self) if self.count == 1 else self.plural


def Np_(singular: str, plural: str, key: str = "count") -> Plural:
    """Mark a message with a plural form for extraction (`-k Np_:1,2`); `key` names its count."""
    return Plural(singular, plural, key)


def fill(template: str, params: Mapping[str, Any], translate: Callable[[str], str] | None = None) -> str:
    """Fill a message template, translating it and any param that has a `label`."""
    values = {}
    for key, value in params.items():
        label = getattr(value, "label", None)
        values[key] = (translate(label) if translate else label) if isinstance(label, str) else value
    if isinstance(template, Plural) and isinstance(params.get(template.key), int):
        template = template.counted(params[template.key])
        return (translate(template) if translate else template.english()).format(**values)
    return (translate(template) if translate else template).format(**values)
