"""Human reward for agentgym/MetaWorld-PickPlace-v0 (pick-place-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

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


def grasp(state, action, obj_radius=0.015, pad_margin=0.05, xz_margin=0.005):
    """pick-place-v3's own caging reward: pads either side of the puck, tcp over it."""
    obj, obj_init = state["obj_pos"], state["obj_init_pos"]
    left_delta = state["left_pad_pos"][:, 1] - obj[:, 1]
    right_delta = obj[:, 1] - state["right_pad_pos"][:, 1]
    right_m = ((obj[:, 1] - state["right_pad_init_pos"][:, 1]).abs() - pad_margin).abs()
    left_m = ((obj[:, 1] - state["left_pad_init_pos"][:, 1]).abs() - pad_margin).abs()
    y_caging = hamacher(
        tolerance(left_delta, obj_radius, pad_margin, left_m),
        tolerance(right_delta, obj_radius, pad_margin, right_m),
    )
    xz = [0, 2]
    tcp_obj_xz = norm(state["tcp_pos"][:, xz] - obj[:, xz])
    margin = norm(obj_init[:, xz] - state["tcp_init_pos"][:, xz]) - xz_margin
    xz_caging = tolerance(tcp_obj_xz, 0.0, xz_margin, margin)
    gripper_closed = action[:, -1].clamp(0.0, 1.0)
    cage = hamacher(y_caging, xz_caging)
    gripping = torch.where(cage > 0.97, gripper_closed, torch.zeros_like(cage))
    return (hamacher(cage, gripping) + cage) / 2


def compute_reward(state, action):
    obj, goal, obj_init = state["obj_pos"], state["goal_pos"], state["obj_init_pos"]
    obj_to_target = norm(obj - goal)
    tcp_to_obj = norm(obj - state["tcp_pos"])
    in_place = tolerance(obj_to_target, 0.0, 0.05, norm(obj_init - goal))
    reward = hamacher(grasp(state, action), in_place)
    lifted = (
        (tcp_to_obj < 0.02) & (state["gripper_opening"] > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
    )
    reward = torch.where(lifted, reward + 1.0 + 5.0 * in_place, reward)
    dense = torch.where(obj_to_target < 0.05, torch.full_like(reward, 10.0), reward)
    return dense, {"dense": dense}
