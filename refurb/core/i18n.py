"""Marking of translatable text in pure code.

The domain speaks English message ids; the web layer translates them for the
reader (French by default). Keeping the marker here lets `core/` stay free of
any i18n machinery while the extractor still finds every message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ("N_", "fill")


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now."""
    return message


def fill(template: str, params: Mapping[str, Any], translate: Callable[[str], str] | None = None) -> str:
    """Fill a message template, translating it and any param that has a `label`."""
    values = {}
    for key, value in params.items():
        label = getattr(value, "label", None)
        values[key] = (translate(label) if translate else label) if isinstance(label, str) else value
    return (translate(template) if translate else template).format(**values)
