"""Bring your own env: any Gymnasium env, described by a ``DescribedTask`` (an
instruction, a success rule, state selected from its MuJoCo model), gets the agentgym
contract without a subclass.

>>> from agentgym.describe import DescribedTask, register
>>> env_id = register(DescribedTask(base="Pusher-v5", instruction="Push the puck to the goal.",
...     success='torch.linalg.vector_norm(state["puck"] - state["goal"], dim=-1) < 0.05',
...     state=(("puck", "body:object"), ("goal", "body:goal"), ("tip", "body:tips_arm"))))
>>> env = gym.make(env_id)   # info["reward_state"], info["success"], info["fitness"]

Parts: ``task`` (DescribedTask, its YAML file), ``mujoco_state`` (selectors: body, joint,
site, actuator, contact, ...), ``criterion`` (success and fitness rules), ``env``
(DescribedEnv, register).
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DescribedTask": "task",
        "DescribedEnv": "env",
        "register": "env",
        "Criterion": "criterion",
        "select": "mujoco_state",
        "KINDS": "mujoco_state",
    },
)
