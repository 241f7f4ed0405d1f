"""``agentgym.config_fields``: the field-docstring reader every config and the CLI share."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from agentgym.config_fields import field_docs
from agentgym.learners.agent.config import AgentPPOConfig
from agentgym.learners.ppo.config import PPOConfig
from agentgym.runs.options import dataclass_options


@dataclass(frozen=True)
class Base:
    width: int = 3
    """How wide,
    over two lines."""
    undocumented: float = 0.5
    label: str = "x"
    "Single-quoted."


@dataclass(frozen=True)
class Child(Base):
    depth: tuple[int, ...] = (1, 2)
    """How deep."""
    note: str = "n"
    1  # noqa: B018  (a non-string constant under a field is no docstring)


def test_field_docs_reads_the_string_under_each_field_with_bases_first():
    assert field_docs(Child) == {
        "width": "How wide, over two lines.",
        "label": "Single-quoted.",
        "depth": "How deep.",
    }
    assert list(field_docs(Child)) == ["width", "label", "depth"]


def test_dataclass_options_take_the_class():
    options = {o.name: o for o in dataclass_options(Child)}
    assert list(options) == ["width", "undocumented", "label", "depth", "note"]
    assert options["width"].annotation == "int"
    assert options["width"].help == "How wide, over two lines."
    assert options["undocumented"].help == ""
    assert options["depth"].default == (1, 2) and options["depth"].flag == "--depth"


@pytest.mark.parametrize("cls", [PPOConfig, AgentPPOConfig])
def test_every_learner_config_field_has_a_docstring(cls: type):
    docs = field_docs(cls)
    assert set(docs) == {f.name for f in dataclasses.fields(cls)}
    assert all(len(doc) > 10 for doc in docs.values())
