"""Human reward for agentgym/MetaWorld-DoorOpen-v0 (door-open-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

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
    hand = state["hand_pos"]
    door = state["obj_pos"] - hand.new_tensor([0.05, 0.0, 0.0])
    theta = -state["door_angle"]
    grab = (action[:, 3].clamp(-1.0, 1.0) + 1.0) / 2.0
    # Stay above a floor that rises away from the handle, so the arm comes from above.
    radius = norm(hand[:, :2] - door[:, :2])
    floor = torch.where(
        radius <= 0.12,
        torch.zeros_like(radius),
        0.04 * torch.log((radius - 0.12).clamp_min(1e-12)) + 0.4,
    )
    above_floor = torch.where(
        hand[:, 2] >= floor,
        torch.ones_like(floor),
        tolerance(floor - hand[:, 2], 0.0, 0.01, floor / 2.0),
    )
    in_place = tolerance(norm(hand - door - hand.new_tensor([0.05, 0.03, -0.01])), 0.0, 0.06, 0.5)
    ready = hamacher(above_floor, in_place)
    opened = 0.2 * (theta < -math.pi / 90.0).float() + 0.8 * tolerance(
        math.pi / 2.0 + math.pi / 6 - state["door_angle"], 0.0, 0.5, math.pi / 3.0
    )
    reward = 2.0 * hamacher(ready, grab) + 8.0 * opened
    done = (state["obj_pos"][:, 0] - state["goal_pos"][:, 0]).abs() <= 0.08
    reward = torch.where(done, torch.full_like(reward, 10.0), reward)
    return reward, {"ready": reward - 8.0 * opened, "opened": 8.0 * opened}
