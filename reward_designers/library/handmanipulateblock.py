"""Human reward for agentgym/HandManipulateBlock-v0: Gymnasium-Robotics' dense reward, as a
program: minus (10 x the block-target distance in m + the angle in rad between the block's
and the target's orientation)."""

import torch


def compute_reward(state, action):
    obj, goal = state["object_pose"], state["goal_pose"]
    d_pos = torch.linalg.vector_norm(obj[:, :3] - goal[:, :3], dim=-1)
    qa, qb = obj[:, 3:], goal[:, 3:]
    # The rotation from the target to the block is qa * conj(qb): its w is the dot product
    # and its vector part below. The env takes 2 arccos(w); 2 atan2(|v|, w) is the same
    # angle for unit quaternions and, unlike arccos, stays exact in float32 near the goal.
    w = (qa * qb).sum(-1)
    v = qb[:, :1] * qa[:, 1:] - qa[:, :1] * qb[:, 1:] - torch.linalg.cross(qa[:, 1:], qb[:, 1:])
    d_rot = 2 * torch.atan2(torch.linalg.vector_norm(v, dim=-1), w)
    return -(10.0 * d_pos + d_rot), {"position": -10.0 * d_pos, "rotation": -d_rot}
