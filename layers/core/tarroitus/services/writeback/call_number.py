"""Call number text: replace the classification number part, keep the genre or collection text after it.

Pure functions, no I/O. Sierra keeps the call number in the item varField `c` / MARC 099, subfield `a`,
for example ``84.2 Etelä-Haaga -kokoelma`` or ``123.45, 678.90 Mystery Romance``.

**The number part** of a call number text is, after any leading whitespace, the longer of

1. the *number list*: one or more classification numbers separated by commas or semicolons (with optional
   whitespace around them), together with any commas, semicolons and whitespace that follow the last number.
   A classification number is ASCII digits with optional ``.``-separated digit groups (``84``, ``84.2``,
   ``78.891``, ``1.2.3``) that ends at whitespace, a comma, a semicolon or the end of the text, so ``1800-luku``
   and ``84.2a`` are not numbers; and
2. the new classification itself (stripped), when the text starts with it followed by whitespace, a comma, a
   semicolon or the end. This covers classifications that are not a plain number list (``84.2 SUO``, ``K``),
   so that writing the same classification twice changes nothing.

Whitespace alone does not continue a number list: in ``84.2 2000-luvun runot`` the number part is ``84.2``.

**The kept text** is what follows the number part, without leading whitespace, commas or semicolons; its own
spacing and trailing characters are left as they are. The new text is the classification, then one space and
the kept text when there is any. A text with no number part keeps all of itself (``Etelä-Haaga -kokoelma``
becomes ``678.90 Etelä-Haaga -kokoelma``).

Sierra's flattened ``callNumber`` uses subfield markers (``|a84.2|hHEI``); :func:`replace_in_marked_text`
applies the same rule to subfield ``a`` of such a text.
"""

import re

SUBFIELD_MARKER = "|"
CALL_NUMBER_SUBFIELD = "a"

_NUMBER = r"\d+(?:\.\d+)*(?=$|[\s,;])"
_NUMBER_LIST = re.compile(rf"{_NUMBER}(?:\s*[,;]\s*{_NUMBER})*[\s,;]*")
_BOUNDARY = re.compile(r"$|[\s,;]")
_SEPARATORS = " \t\r\n\f\v,;"


def split_call_number(text: str, classification: str | None = None) -> tuple[str, str]:
    """Split `text` into (number part, kept text) as the module docstring defines them."""
    body = text.lstrip()
    match = _NUMBER_LIST.match(body)
    number_end = match.end() if match else 0
    wanted = (classification or "").strip()
    if wanted and body.startswith(wanted) and _BOUNDARY.match(body, len(wanted)):
        number_end = max(number_end, len(wanted))
    return body[:number_end].rstrip(_SEPARATORS), body[number_end:].lstrip(_SEPARATORS)


def replace_number_part(text: str, classification: str) -> str:
    """`text` with its number part replaced by `classification`, the genre or collection text kept."""
    new_number = classification.strip()
    if not new_number:
        raise ValueError("the classification to write is empty")
    _, kept = split_call_number(text, new_number)
    return f"{new_number} {kept}" if kept else new_number


def replace_in_marked_text(text: str, classification: str) -> str:
    """Replace the number part of subfield ``a`` in a marked text; a text without ``|a`` gets one in front."""
    if SUBFIELD_MARKER in classification:
        raise ValueError(f"a classification cannot contain the subfield marker {SUBFIELD_MARKER!r}")
    if not text.startswith(SUBFIELD_MARKER):
        head, marker, tail = text.partition(SUBFIELD_MARKER)
        return replace_number_part(head, classification) + marker + tail
    parts = text.split(SUBFIELD_MARKER)[1:]
    for index, part in enumerate(parts):
        if part[:1] == CALL_NUMBER_SUBFIELD:
            parts[index] = CALL_NUMBER_SUBFIELD + replace_number_part(part[1:], classification)
            return "".join(SUBFIELD_MARKER + part for part in parts)
    return f"{SUBFIELD_MARKER}{CALL_NUMBER_SUBFIELD}{classification.strip()}{text}"
