"""Names as people see them: two names that look the same are the same name."""

from __future__ import annotations

import unicodedata


def _visible(text: str) -> str:
    # Format characters (zero-width space and joiners, soft hyphen, BOM, bidi marks) draw
    # nothing; whitespace of any kind is one space.
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(visible.split())


def clean_name(name: str) -> str:
    """The name to store: composed form (NFC), no invisible characters, single spaces."""
    return _visible(unicodedata.normalize("NFC", name))


def name_key(name: str) -> str:
    """What uniqueness compares: compatibility form (NFKC), case folded, visible text only.

    "Les Ombres", "les  ombres", "LES OMBRES", the same with a decomposed accent or a zero-width
    space inside a word share one key; accents still count ("Ombrés" is another name)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return _visible(folded)


LIKE_ESCAPE = "\\"


def like_prefix(text: str) -> str:
    """A LIKE pattern matching the lower-cased values that start with `text` (its %, _ and
    backslashes taken literally)."""
    folded = unicodedata.normalize("NFC", text).lower()
    escaped = "".join(LIKE_ESCAPE + char if char in "%_\\" else char for char in folded)
    return escaped + "%"
