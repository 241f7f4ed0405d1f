"""Human reward for agentgym/MetaWorld-LeverPull-v0 (lever-pull-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

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


def compute_reward(state, action):
    lever, goal, lever_init = state["obj_pos"], state["goal_pos"], state["obj_init_pos"]
    # The gripper's "shoulder" (hand + offset) goes under the lever end to lift it.
    scale = lever.new_tensor([4.0, 1.0, 4.0])
    offset = lever.new_tensor([0.0, 0.055, 0.07])
    shoulder_to_lever = norm((state["hand_pos"] + offset - lever) * scale)
    shoulder_to_lever_init = norm((state["tcp_init_pos"] + offset - lever_init) * scale)
    ready_to_lift = tolerance(shoulder_to_lever, 0.0, 0.02, shoulder_to_lever_init)
    in_place = tolerance(norm(lever - goal), 0.0, 0.04, norm(lever_init - goal))
    dense = 10.0 * hamacher(ready_to_lift, in_place)
    return dense, {"dense": dense}
