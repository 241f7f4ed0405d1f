"""Human reward for agentgym/MetaWorld-DrawerOpen-v0 (drawer-open-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

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


MAX_DIST = 0.2  # how far the drawer opens


def compute_reward(state, action):
    handle, goal = state["obj_pos"], state["goal_pos"]
    opening = tolerance(norm(handle - goal), 0.0, 0.02, MAX_DIST)
    handle_init = goal + goal.new_tensor([0.0, MAX_DIST, 0.0])
    # x, y errors weigh 3x so the gripper can come down over the handle.
    scale = goal.new_tensor([3.0, 3.0, 1.0])
    gripper_error = norm((handle - state["hand_pos"]) * scale)
    gripper_error_init = norm((handle_init - state["tcp_init_pos"]) * scale)
    caging = tolerance(gripper_error, 0.0, 0.01, gripper_error_init)
    return 5.0 * (caging + opening), {"caging": 5.0 * caging, "opening": 5.0 * opening}
