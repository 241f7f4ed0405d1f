"""One sanitiser for every piece of worker- or program-chosen text that leaves the sandbox.

A reward program chooses its exception messages, its term names and the text it prints;
a worker's result carries them back. Before any of it reaches the LLM's next prompt, the
user's terminal or an HTML report, it goes through ``clean``: ANSI escape sequences and
other control characters are removed (a message must not move the cursor, retitle the
terminal or hide a line), the values of the parent's secret-looking environment
variables are redacted, and the length is capped. Printing sites escape on top of this
(rich markup in the terminal, HTML in reports): ``clean`` makes text inert as text,
escaping makes it inert in its medium.
"""

from __future__ import annotations

import os
import re

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.I)
"""Environment variables whose values never leave the parent, whatever carries them."""

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \\), other two-byte escapes, and the
# 8-bit C1 forms of the same; then every remaining C0/C1 control except tab and newline.
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b.?",
    re.S,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

DEFAULT_LIMIT = 500
"""Characters an LLM-facing or printed message keeps."""


def secret_values() -> list[str]:
    """Values of the parent's secret-looking variables long enough to be recognisable."""
    return [v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 8]


def redact(text: str) -> str:
    """Replace the values of the parent's secret-looking variables by ``[redacted]``."""
    for value in secret_values():
        text = text.replace(value, "[redacted]")
    return text


def clean(text: object, limit: int = DEFAULT_LIMIT, *, newlines: bool = True) -> str:
    """``text`` as inert, bounded plain text: no escapes or controls, secrets redacted.

    ``limit`` caps the length (an ellipsis marks a cut); ``newlines=False`` also turns
    line breaks into spaces, for names printed on one line.
    """
    out = _ANSI.sub("", str(text))
    out = _CONTROL.sub("", out)
    if not newlines:
        out = out.replace("\n", " ").replace("\t", " ")
    out = redact(out)
    if len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out
