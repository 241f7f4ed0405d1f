"""The text an agent reads for a MiniWoB page, and the commands it writes back.

The DOM renders one line per visible element, indented by depth::

    [6] button "Ok"
    [7] input_text value="" (focused)
    [9] input_checkbox checked=false
        "DKkQH"
    [15] span .trash

``[ref]`` is what ``click``/``type``/``select`` take; text nodes (no ref) show as quoted
text; an icon without text shows its class, as its picture would tell a person what it
is. Commands: ``click(ref)``, ``type(ref, "text")``, ``select(ref, "option")``, or the
same as JSON ``{"action": "type", "ref": 7, "text": "hello"}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from agentgym.envs.web.miniwob.page import Element

INTERACTIVE = ("input", "button", "a", "select", "textarea", "label")
MAX_TEXT = 80


def _classes(el: Element) -> str:
    names = [c for c in el.classes.split() if not c.startswith("ui-")][:2]
    return " ".join(f".{c}" for c in names)


def render_dom(elements: list[Element], select_options: dict[int, list[str]] | None = None) -> str:
    """One line per visible element (see the module docstring)."""
    lines = []
    options = select_options or {}
    for el in elements:
        indent = "  " * max(0, el.depth - 1)
        if el.is_text_node:
            lines.append(f'{indent}"{(el.text or "")[:MAX_TEXT]}"')
            continue
        if el.tag == "body":
            continue
        empty_leaf = not el.children and not (el.text or "").strip()
        if empty_leaf and not el.tag.startswith(INTERACTIVE) and not _classes(el) and not el.id:
            continue  # decoration: resize handles, spacers
        parts = [f"[{el.ref}] {el.tag}"]
        if el.id:
            parts.append(f"#{el.id}")
        if (el.text or "").strip():
            parts.append(json.dumps(el.text.strip()[:MAX_TEXT]))
        elif empty_leaf and _classes(el):
            parts.append(_classes(el))
        if el.tag in ("input_checkbox", "input_radio"):
            parts.append(f"checked={'true' if el.value else 'false'}")
        elif el.value is not None and el.tag.startswith(("input", "textarea")):
            parts.append(f"value={json.dumps(str(el.value))}")
        if el.ref in options:
            parts.append("options=" + json.dumps(options[el.ref]))
        if el.focused:
            parts.append("(focused)")
        lines.append(indent + " ".join(parts))
    return "\n".join(lines)


@dataclass(frozen=True)
class WebCommand:
    verb: str
    """click, type or select."""
    ref: int
    text: str = ""


class CommandError(ValueError):
    """A command that could not be parsed; the message says what was expected."""


CALL = re.compile(
    r"^\s*(click|type|select)\s*\(\s*(-?\d+)\s*(?:,\s*(.*?))?\s*\)\s*$", re.IGNORECASE | re.DOTALL
)
SHORT_CLICK = re.compile(r"^\s*click\s*\[?\s*(-?\d+)\s*\]?\s*$", re.IGNORECASE)
NEEDS_TEXT = ("type", "select")


def _unquote(arg: str) -> str:
    arg = arg.strip()
    if arg.startswith('"'):
        try:
            value = json.loads(arg)
        except json.JSONDecodeError as err:
            raise CommandError(
                f"the text argument {arg!r} is not a valid quoted string ({err.msg})"
            ) from err
        if not isinstance(value, str):
            raise CommandError(f"the text argument {arg!r} must be a string")
        return value
    if arg.startswith("'") and arg.endswith("'") and len(arg) >= 2:
        return arg[1:-1]
    return arg


def parse_command(raw: str) -> WebCommand:
    """Parse ``click(4)``, ``type(5, "hi")``, ``select(4, "Bob")`` or their JSON form."""
    raw = raw.strip()
    if raw.startswith(("{", "[")):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise CommandError(f"malformed JSON command: {err.msg} at character {err.pos}") from err
        if not isinstance(data, dict):
            raise CommandError("a JSON command must be an object with 'action' and 'ref'")
        verb = str(data.get("action", "")).lower()
        if verb not in ("click", *NEEDS_TEXT):
            raise CommandError(
                f"JSON field 'action' must be click, type or select, got {data.get('action')!r}"
            )
        ref = data.get("ref")
        if (
            isinstance(ref, bool)
            or not isinstance(ref, (int, str))
            or not str(ref).lstrip("-").isdigit()
        ):
            raise CommandError(f"JSON field 'ref' must be an element ref (an integer), got {ref!r}")
        text = data.get("text", data.get("option", ""))
        if verb in NEEDS_TEXT and not isinstance(text, str):
            raise CommandError(f"JSON field 'text' of {verb} must be a string, got {text!r}")
        return WebCommand(verb, int(ref), text if verb in NEEDS_TEXT else "")
    m = SHORT_CLICK.match(raw)
    if m:
        return WebCommand("click", int(m.group(1)))
    m = CALL.match(raw)
    if not m:
        raise CommandError(
            f'cannot parse {raw[:60]!r}; expected click(ref), type(ref, "text"), '
            'select(ref, "option") or JSON {"action": ..., "ref": ...}'
        )
    verb, ref, arg = m.group(1).lower(), int(m.group(2)), m.group(3)
    if verb in NEEDS_TEXT:
        if arg is None:
            raise CommandError(f'{verb}(ref, "text") needs a text argument')
        return WebCommand(verb, ref, _unquote(arg))
    if arg:
        raise CommandError(f"click takes one argument (a ref), got {raw[:60]!r}")
    return WebCommand(verb, ref)


def format_command(cmd: WebCommand) -> str:
    """The canonical text form, as the expert writes it."""
    if cmd.verb == "click":
        return f"click({cmd.ref})"
    return f"{cmd.verb}({cmd.ref}, {json.dumps(cmd.text)})"
