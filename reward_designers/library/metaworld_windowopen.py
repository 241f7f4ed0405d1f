"""Human reward for agentgym/MetaWorld-WindowOpen-v0 (window-open-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

import math

import torch


def tolerance(x, lower, upper, margin, sigmoid="long_tail", value_at_margin=0.1):
    """dm_control's tolerance, batched: 1 inside [lower, upper], a sigmoid falling to
    value_at_margin at distance ``margin`` outside (0 outside when margin is 0)."""
    margin = torch.as_tensor(margin, dtype=x.dtype, device=x.device)
    inside = (lower <= x) & (x <= upper)
    safe = torch.where(margin > 0, margin, torch.ones_like(margin))
    d = torch.where(x < lower, lower - x, x - upper) / safe
    if sigmoid == "long_tail":
        scale = math.sqrt(1 / value_at_margin - 1)
        outside = 1 / ((d * scale) ** 2 + 1)
    else:  # gaussian
        scale = math.sqrt(-2 * math.log(value_at_margin))
        outside = torch.exp(-0.5 * (d * scale) ** 2)
    outside = torch.where(margin > 0, outside, torch.zeros_like(outside))
    return torch.where(inside, torch.ones_like(x), outside)


def hamacher(a, b):
    """Hamacher t-norm: a * b / (a + b - a * b), 0 when both are 0."""
    denom = a + b - a * b
    return torch.where(
        denom > 0, a * b / torch.where(denom > 0, denom, torch.ones_like(denom)), 0.0 * a
    )


def norm(v):
    return torch.linalg.vector_norm(v, dim=-1)


SLIDE = 0.2  # the goal is the window's start position + 0.2 m along x


def compute_reward(state, action):
    obj, goal = state["obj_pos"], state["goal_pos"]
    in_place = tolerance((obj[:, 0] - goal[:, 0]).abs(), 0.0, 0.05, abs(SLIDE - 0.05))
    tcp_to_obj = norm(obj - state["tcp_pos"])
    tcp_to_obj_init = norm(state["obj_init_pos"] - state["tcp_init_pos"])
    reach = tolerance(tcp_to_obj, 0.0, 0.02, (tcp_to_obj_init - 0.02).abs())
    dense = 10 * hamacher(reach, in_place)
    return dense, {"dense": dense}
