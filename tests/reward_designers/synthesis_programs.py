"""Known reward programs for Reach, as a scripted LLM writes them (some broken)."""

GOOD = """Here is a dense reward.
```python
import torch

def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    effort = 0.01 * torch.sum(action * action, dim=-1)
    return -distance - effort, {"distance": -distance, "effort": -effort}
```"""

# Rewards moving away from the target: trains, but worse on the task than GOOD.
AWAY = """```python
import torch

def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return distance, {"away": distance}
```"""

# Reduces over the batch dimension: one number for all envs (vetting: BAD_SHAPE).
BAD_SHAPE = """```python
import torch

def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"])
    return -distance, {"distance": -distance}
```"""

FORBIDDEN = """```python
import os
import torch

def compute_reward(state, action):
    os.system("echo hi")
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return -d, {"d": -d}
```"""

NO_CODE = "I would reward the agent for getting closer to the target."

GOOD_TEMPERED = """```python
import torch

def compute_reward(state, action):
    temperature = 0.1
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    near = torch.exp(-distance / temperature)
    return near - distance, {"near": near, "distance": -distance}
```"""

# Finite on the recorded states of vetting, NaN once training has scored 600 states
# (module state survives between calls; counted in states, not calls, because a PPO
# population scores a served program once per rollout): stops with NONFINITE during
# training.
NAN_LATER = """```python
import torch

_seen = [0]


def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    _seen[0] += distance.shape[0]
    if _seen[0] > 600:
        distance = distance / 0.0 * 0.0
    return -distance, {"distance": -distance}
```"""

# A real 1.5B model's reward: a negative distance clamped to [0, 1], i.e. always 0
# (passes the dry run; synthesis rejects it as CONSTANT before any training).
CLAMPED_TO_ZERO = """```python
import torch

def compute_reward(state, action):
    dist = (state["target_pos"] - state["fingertip_pos"]).norm(dim=-1)
    reward = torch.clamp(-10.0 * dist, 0, 1)
    return reward, {"distance": dist}
```"""

# Sound on the recorded states of vetting, raises once training has called it 20 times:
# stops with ERROR during training.
RAISES_LATER = """```python
import torch

_calls = [0]


def compute_reward(state, action):
    _calls[0] += 1
    if _calls[0] > 20:
        raise RuntimeError("the reward program broke after 20 calls")
    distance = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return -distance, {"distance": -distance}
```"""
