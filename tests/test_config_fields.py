"""``agentgym.config_fields``: the field-docstring reader and the value checks that every
config dataclass and the CLI share."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest

from agentgym.config_fields import (
    check_choice,
    check_fields,
    check_ints,
    check_range,
    config_from_dict,
    field_docs,
    field_error,
)
from agentgym.learners.agent.config import AgentPPOConfig
from agentgym.learners.ppo.config import PPOConfig
from agentgym.llm.completion import SamplingParams
from agentgym.llm.retry import RetryPolicy
from agentgym.reward_designers.clip.reward import ClipRewardConfig
from agentgym.reward_designers.progress.config import SPAConfig
from agentgym.reward_designers.synthesis.config import SynthesisConfig
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


@dataclass(frozen=True)
class Knobs:
    count: int = 1
    budget: int = 0
    gamma: float = 0.5
    share: float = 0.5
    mode: str = "fast"
    sizes: tuple[int, ...] = (4,)

    def __post_init__(self) -> None:
        check_ints(self, ("count",))
        check_ints(self, ("budget",), 0)
        check_range(self, "gamma", 0.0, 1.0)
        check_range(self, "share", 0.0, 1.0, open_low=True)
        check_choice(self, "mode", ("fast", "exact"))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"count": 0}, "Knobs.count: expected a positive int, got 0"),
        ({"count": 2.0}, "Knobs.count: expected a positive int, got 2.0"),
        ({"count": True}, "Knobs.count: expected a positive int, got True"),
        ({"budget": -1}, "Knobs.budget: expected an int >= 0, got -1"),
        ({"gamma": 1.5}, "Knobs.gamma: expected a float in [0, 1], got 1.5"),
        ({"gamma": "0.5"}, "Knobs.gamma: expected a float in [0, 1], got '0.5'"),
        ({"share": 0}, "Knobs.share: expected a float in (0, 1], got 0"),
        (
            {"mode": "fats"},
            "Knobs.mode: expected one of fast, exact, got 'fats'. Did you mean 'fast'?",
        ),
        ({"mode": "zzz"}, "Knobs.mode: expected one of fast, exact, got 'zzz'"),
    ],
)
def test_each_check_names_the_field_and_what_was_expected(values, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Knobs(**values)


def test_the_edges_of_each_check_pass():
    Knobs(count=1, budget=0, gamma=0, share=1.0)
    Knobs(gamma=1)


def test_field_error_takes_the_config_or_its_class():
    assert str(field_error(Knobs, "mode", "a mode", 3)) == "Knobs.mode: expected a mode, got 3"
    assert str(field_error(Knobs(), "mode", "a mode", 3, " Did you mean 'x'?")) == (
        "Knobs.mode: expected a mode, got 3. Did you mean 'x'?"
    )


def test_unknown_keys_are_named_with_a_suggestion_and_the_fields():
    message = (
        "Knobs has no field 'cuont'. Did you mean 'count'? "
        "Fields: count, budget, gamma, share, mode, sizes"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_fields(Knobs, ["count", "cuont"])
    with pytest.raises(ValueError, match=re.escape(message)):
        config_from_dict(Knobs, {"cuont": 2})


def test_config_from_dict_turns_lists_back_into_tuples():
    assert config_from_dict(Knobs, {"sizes": [8, 8], "count": 3}) == Knobs(count=3, sizes=(8, 8))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PPOConfig(num_envs=0), "PPOConfig.num_envs: expected a positive int, got 0"),
        (lambda: PPOConfig(torch_threads=-1), "PPOConfig.torch_threads: expected an int >= 0"),
        (lambda: PPOConfig(gae_lambda=2.0), "PPOConfig.gae_lambda: expected a float in [0, 1]"),
        (lambda: PPOConfig(vectorization="snyc"), "Did you mean 'sync'?"),
        (lambda: PPOConfig(num_minibatches=3), "PPOConfig.num_minibatches: expected a divisor"),
        (lambda: PPOConfig.from_dict({"num_env": 2}), "PPOConfig has no field 'num_env'"),
        (
            lambda: AgentPPOConfig(policy="hf:x", group_size=0),
            "AgentPPOConfig.group_size: expected a positive int",
        ),
        (
            lambda: AgentPPOConfig(policy="hf:x", rollout_backend="vlm"),
            "AgentPPOConfig.rollout_backend: expected one of transformers, vllm, got 'vlm'. "
            "Did you mean 'vllm'?",
        ),
        (
            lambda: AgentPPOConfig(policy="hf:x", vllm_gpu_memory_utilization=0.0),
            "AgentPPOConfig.vllm_gpu_memory_utilization: expected a float in (0, 1]",
        ),
        (
            lambda: SynthesisConfig(env_id="agentgym/Reach-v0", samples=0),
            "SynthesisConfig.samples: expected a positive int",
        ),
        (
            lambda: SynthesisConfig.from_dict({"env_id": "x", "sample": 2}),
            "SynthesisConfig has no field 'sample'. Did you mean 'samples'?",
        ),
        (lambda: SPAConfig(residual="lats"), "SPAConfig.residual: expected one of none, uniform"),
        (lambda: SPAConfig(retrain_every=-1), "SPAConfig.retrain_every: expected an int >= 0"),
        (
            lambda: ClipRewardConfig(model="m", goal=("g",), alpha=0.0, cache_size=-1),
            "ClipRewardConfig.cache_size: expected an int >= 0",
        ),
        (lambda: SamplingParams(top_p=0.0), "SamplingParams.top_p: expected a float in (0, 1]"),
        (lambda: SamplingParams(n=0), "SamplingParams.n: expected a positive int"),
        (lambda: RetryPolicy(max_delay=-1), "RetryPolicy.max_delay: expected seconds >= 0"),
    ],
)
def test_every_config_reports_errors_through_the_shared_checks(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()
