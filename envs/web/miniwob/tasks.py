"""The MiniWoB++ tasks agentgym registers (kept import-light: the registry reads it)."""

from __future__ import annotations

# Task -> one-line description for the TaskSpec, and JavaScript run after each episode
# starts (use-autocomplete's 300 ms suggestion delay would make what a step observes
# depend on the machine's speed; zero keeps the task and makes it deterministic).
TASKS: dict[str, tuple[str, str]] = {
    "click-test": ("Click the single button.", ""),
    "click-button": ("Click the button whose label the utterance names.", ""),
    "click-link": ("Click the link with the named text inside a paragraph.", ""),
    "click-dialog": ("Close the dialog box by clicking its 'x' (Close) button.", ""),
    "click-tab": ("Click the named tab.", ""),
    "click-option": ("Select the named radio button and click Submit.", ""),
    "click-checkboxes": ("Tick exactly the named checkboxes and click Submit.", ""),
    "focus-text": ("Focus the text box.", ""),
    "enter-text": ("Type the given text into the field and press Submit.", ""),
    "enter-password": ("Type the given password into both fields and press Submit.", ""),
    "login-user": ("Type the username and password and press Login.", ""),
    "choose-list": ("Choose the named item from the drop-down list and click Submit.", ""),
    "use-autocomplete": (
        "Enter an item with the given start (and end) using the autocomplete menu, then Submit.",
        "if (window.$ && $('#tags').autocomplete) { $('#tags').autocomplete('option', 'delay', 0); }",
    ),
    "email-inbox-delete": ("Delete the email from the named sender with its trash icon.", ""),
}


def class_name(task: str) -> str:
    """The env class of a task: click-button -> MiniWoBClickButtonEnv."""
    return "MiniWoB" + "".join(part.title() for part in task.split("-")) + "Env"
