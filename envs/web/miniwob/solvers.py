"""Scripted solvers for the MiniWoB tasks agentgym registers.

Each reads what a person would: the utterance and the rendered DOM (tags, text,
values, checked states, select options, icon classes), never the task's JavaScript
state, and returns the next command. They are stateless: the next command follows from
the page as it is now, so a solver can take over an episode at any step.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agentgym.envs.web.miniwob.dom_text import WebCommand
from agentgym.envs.web.miniwob.page import Element

SelectInfo = dict[int, tuple[list[str], str]]
"""select ref -> (option texts, selected option text)."""

Solver = Callable[[str, list[Element], SelectInfo], WebCommand]


class NoMoveError(RuntimeError):
    """The solver sees nothing to do on this page (it should not happen on a live task)."""


def quoted(utterance: str) -> list[str]:
    return re.findall(r'"([^"]*)"', utterance)


def _text_of(el: Element, by_ref: dict[int, Element]) -> str:
    """An element's own text, or the text of its text-node children (labels, buttons)."""
    if el.text is not None:
        return el.text.strip()
    return " ".join(
        (by_ref[c].text or "").strip()
        for c in el.children
        if c in by_ref and by_ref[c].is_text_node
    ).strip()


def _find(elements: list[Element], pred: Callable[[Element], bool]) -> Element:
    for el in elements:
        if pred(el):
            return el
    raise NoMoveError("no element matches")


def _with_text(elements: list[Element], tags: tuple[str, ...], text: str) -> Element:
    by_ref = {e.ref: e for e in elements}
    return _find(elements, lambda e: e.tag in tags and _text_of(e, by_ref) == text)


def _submit(elements: list[Element], label: str = "Submit") -> WebCommand:
    return WebCommand("click", _with_text(elements, ("button",), label).ref)


def _fill(elements: list[Element], wanted: list[tuple[Element, str]], button: str) -> WebCommand:
    for field, text in wanted:
        if field.value != text:
            return WebCommand("type", field.ref, text)
    return _submit(elements, button)


def click_test(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    return WebCommand("click", _find(elements, lambda e: e.tag == "button").ref)


def click_button(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    return WebCommand("click", _with_text(elements, ("button",), quoted(utterance)[0]).ref)


def click_link(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    return WebCommand("click", _with_text(elements, ("span", "a"), quoted(utterance)[0]).ref)


def click_dialog(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    return WebCommand("click", _with_text(elements, ("button",), "Close").ref)


def click_tab(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    tab = re.search(r"Tab #\d+", utterance)
    if not tab:
        raise NoMoveError(f"no tab named in {utterance!r}")
    return WebCommand("click", _with_text(elements, ("a",), tab.group(0)).ref)


def _choices(elements: list[Element], tag: str) -> list[tuple[Element, str]]:
    """(input, its label text) for checkboxes or radios, whose label text is a sibling."""
    by_ref = {e.ref: e for e in elements}
    out = []
    for el in elements:
        if el.tag == tag and el.parent in by_ref:
            out.append((el, _text_of(by_ref[el.parent], by_ref)))
    return out


def click_option(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    m = re.match(r"Select (.*) and click Submit\.", utterance)
    if not m:
        raise NoMoveError(f"cannot read {utterance!r}")
    for radio, label in _choices(elements, "input_radio"):
        if label == m.group(1) and not radio.value:
            return WebCommand("click", radio.ref)
    return _submit(elements)


def click_checkboxes(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    m = re.match(r"Select (.*) and click Submit\.", utterance)
    if not m:
        raise NoMoveError(f"cannot read {utterance!r}")
    wanted = set() if m.group(1) == "nothing" else {w.strip() for w in m.group(1).split(",")}
    for box, label in _choices(elements, "input_checkbox"):
        if bool(box.value) != (label in wanted):
            return WebCommand("click", box.ref)
    return _submit(elements)


def focus_text(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    return WebCommand("click", _find(elements, lambda e: e.tag == "input_text").ref)


def enter_text(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    field = _find(elements, lambda e: e.tag == "input_text")
    return _fill(elements, [(field, quoted(utterance)[0])], "Submit")


def enter_password(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    fields = [e for e in elements if e.tag == "input_password"]
    word = quoted(utterance)[0]
    return _fill(elements, [(f, word) for f in fields], "Submit")


def login_user(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    user, password = quoted(utterance)[:2]
    name = _find(elements, lambda e: e.tag == "input_text")
    secret = _find(elements, lambda e: e.tag == "input_password")
    return _fill(elements, [(name, user), (secret, password)], "Login")


def choose_list(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    m = re.match(r"Select (.*) from the list and click Submit\.", utterance)
    if not m or not selects:
        raise NoMoveError(f"cannot read {utterance!r} or no list on the page")
    ref, (_, selected) = next(iter(selects.items()))
    if selected != m.group(1):
        return WebCommand("select", ref, m.group(1))
    return _submit(elements)


def use_autocomplete(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    parts = quoted(utterance)
    start, end = parts[0], (parts[1] if len(parts) > 1 else "")
    field = _find(elements, lambda e: e.tag == "input_text")
    value = str(field.value or "")
    by_ref = {e.ref: e for e in elements}
    menu = [
        el
        for el in elements
        if el.parent in by_ref and by_ref[el.parent].tag == "li" and _text_of(el, by_ref)
    ]
    if (
        value.startswith(start)
        and value.endswith(end)
        and (not menu or value in {_text_of(m, by_ref) for m in menu})
    ):
        return _submit(elements)
    for el in menu:  # the suggestion menu, once the prefix is typed
        text = _text_of(el, by_ref)
        if text.startswith(start) and text.endswith(end):
            return WebCommand("click", el.ref)
    return WebCommand("type", field.ref, start)


def email_inbox_delete(utterance: str, elements: list[Element], selects: SelectInfo) -> WebCommand:
    m = re.match(r"Find the email by (.*) and click the trash icon", utterance)
    if not m:
        raise NoMoveError(f"cannot read {utterance!r}")
    by_ref = {e.ref: e for e in elements}
    sender = _find(
        elements, lambda e: e.tag == "div" and e.text == m.group(1) and "email-sender" in e.classes
    )
    # Up from the sender to its thread, then down to the thread's trash icon.
    thread = by_ref[sender.parent]
    while "email-thread" not in thread.classes and thread.parent in by_ref:
        thread = by_ref[thread.parent]
    inside = {thread.ref}
    for el in elements:
        if el.parent in inside:
            inside.add(el.ref)
            if "trash" in el.classes.split():
                return WebCommand("click", el.ref)
    raise NoMoveError("no trash icon in the sender's thread")


SOLVERS: dict[str, Solver] = {
    "click-test": click_test,
    "click-button": click_button,
    "click-link": click_link,
    "click-dialog": click_dialog,
    "click-tab": click_tab,
    "click-option": click_option,
    "click-checkboxes": click_checkboxes,
    "focus-text": focus_text,
    "enter-text": enter_text,
    "enter-password": enter_password,
    "login-user": login_user,
    "choose-list": choose_list,
    "use-autocomplete": use_autocomplete,
    "email-inbox-delete": email_inbox_delete,
}
