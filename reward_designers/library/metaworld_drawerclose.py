"""Human reward for agentgym/MetaWorld-DrawerClose-v0 (drawer-close-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

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
    obj, goal, obj_init = state["obj_pos"], state["goal_pos"], state["obj_init_pos"]
    target_to_obj = norm(obj - goal)
    in_place = tolerance(target_to_obj, 0.0, 0.05, (norm(obj_init - goal) - 0.05).abs())
    tcp_to_obj = norm(obj - state["tcp_pos"])
    tcp_to_obj_init = norm(obj_init - state["tcp_init_pos"])
    reach = tolerance(tcp_to_obj, 0.0, 0.005, (tcp_to_obj_init - 0.005).abs(), sigmoid="gaussian")
    reach = hamacher(reach, action[:, -1].clamp(0.0, 1.0))
    reward = hamacher(reach, in_place)
    reward = torch.where(target_to_obj <= 0.065, torch.ones_like(reward), reward)
    dense = 10.0 * reward
    return dense, {"dense": dense}
