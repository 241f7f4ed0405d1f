"""Human reward for agentgym/MetaWorld-PegInsertSide-v0 (peg-insertion-side-v3): MetaWorld's dense "v2" reward, ported to batched torch."""

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


def caging(state, action, obj_radius=0.0075, pad_thresh=0.03, xz_thresh=0.005):
    """MetaWorld's gripper caging reward (high density): fingers around the peg."""
    obj, obj_init = state["obj_pos"], state["obj_init_pos"]
    pad_y = torch.stack([state["left_pad_pos"][:, 1], state["right_pad_pos"][:, 1]], dim=-1)
    pad_to_obj = (pad_y - obj[:, 1:2]).abs()
    lr_margin = ((pad_y - obj_init[:, 1:2]).abs() - pad_thresh).abs()
    left = tolerance(pad_to_obj[:, 0], obj_radius, pad_thresh, lr_margin[:, 0])
    right = tolerance(pad_to_obj[:, 1], obj_radius, pad_thresh, lr_margin[:, 1])
    caging_y = hamacher(left, right)
    xz = [0, 2]
    xz_margin = norm(obj_init[:, xz] - state["tcp_init_pos"][:, xz]) - xz_thresh
    caging_xz = tolerance(norm(state["tcp_pos"][:, xz] - obj[:, xz]), 0.0, xz_thresh, xz_margin)
    gripper_closed = action[:, -1].clamp(0.0, 1.0)
    cage = hamacher(caging_y, caging_xz)
    gripping = torch.where(cage > 0.97, gripper_closed, torch.zeros_like(cage))
    return (hamacher(cage, gripping) + cage) / 2


def inside_box(point, zero, one):
    """1 outside the box; inside, the product of the point's fractions from ``zero`` to ``one``."""
    low, high = torch.minimum(zero, one), torch.maximum(zero, one)
    inside = ((point >= low) & (point <= high)).all(dim=-1)
    fraction = ((point - zero) / (one - zero)).prod(dim=-1)
    return torch.where(inside, fraction, torch.ones_like(fraction))


def compute_reward(state, action):
    obj, obj_init, goal = state["obj_pos"], state["obj_init_pos"], state["goal_pos"]
    head = state["peg_head_pos"]
    scale = head.new_tensor([1.0, 2.0, 2.0])
    tcp_to_obj = norm(obj - state["tcp_pos"])
    obj_to_target = norm((head - goal) * scale)
    in_place = tolerance(
        obj_to_target, 0.0, 0.07, norm((state["peg_head_init_pos"] - goal) * scale)
    )
    boxes = state["hole_clearance_boxes"]  # [N, box, (bottom-right, top-left), xyz]
    clearance = hamacher(
        inside_box(head, boxes[:, 1, 0], boxes[:, 1, 1]),
        inside_box(head, boxes[:, 0, 0], boxes[:, 0, 1]),
    )
    in_place = hamacher(in_place, clearance)
    lifted = (
        (tcp_to_obj < 0.08) & (state["gripper_opening"] > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
    )
    grasped = torch.where(lifted, torch.ones_like(tcp_to_obj), caging(state, action))
    reward = hamacher(grasped, in_place)
    reward = torch.where(lifted, reward + 1.0 + 5 * in_place, reward)
    dense = torch.where(obj_to_target <= 0.07, torch.full_like(reward, 10.0), reward)
    return dense, {"dense": dense}
