"""Human reward for agentgym/HandManipulatePen-v0: Gymnasium-Robotics' dense reward, as a
program: minus (10 x the pen-target distance in m + the angle in rad between the pen's and
the target's orientation once the pen's rotation about z (xyz Euler angles) is set to the
target's, so that the spin about the pen's own axis does not count)."""

import torch


def quat2mat(q):
    w, x, y, z = q.unbind(-1)
    s = 2.0 / (q * q).sum(-1)
    xx, yy, zz = x * x * s, y * y * s, z * z * s
    xy, xz, yz = x * y * s, x * z * s, y * z * s
    wx, wy, wz = w * x * s, w * y * s, w * z * s
    rows = [
        [1.0 - (yy + zz), xy - wz, xz + wy],
        [xy + wz, 1.0 - (xx + zz), yz - wx],
        [xz - wy, yz + wx, 1.0 - (xx + yy)],
    ]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def quat2euler(q):
    # Gymnasium-Robotics' rotations.mat2euler (static xyz), away from gimbal lock
    m = quat2mat(q)
    cy = torch.sqrt(m[:, 2, 2] ** 2 + m[:, 1, 2] ** 2)
    ex = -torch.atan2(m[:, 1, 2], m[:, 2, 2])
    ey = -torch.atan2(-m[:, 0, 2], cy)
    ez = -torch.atan2(m[:, 0, 1], m[:, 0, 0])
    return ex, ey, ez


def euler2quat(ex, ey, ez):
    ai, aj, ak = ez / 2, -ey / 2, ex / 2
    si, sj, sk = torch.sin(ai), torch.sin(aj), torch.sin(ak)
    ci, cj, ck = torch.cos(ai), torch.cos(aj), torch.cos(ak)
    cc, cs, sc, ss = ci * ck, ci * sk, si * ck, si * sk
    return torch.stack(
        [cj * cc + sj * ss, cj * cs - sj * sc, -(cj * ss + sj * cc), cj * sc - sj * cs], -1
    )


def compute_reward(state, action):
    obj, goal = state["object_pose"], state["goal_pose"]
    d_pos = torch.linalg.vector_norm(obj[:, :3] - goal[:, :3], dim=-1)
    qb = goal[:, 3:]
    ax, ay, _ = quat2euler(obj[:, 3:])
    _, _, bz = quat2euler(qb)
    qa = euler2quat(ax, ay, bz)
    # w and vector part of qa * conj(qb); 2 atan2(|v|, w) is the env's 2 arccos(w) for unit
    # quaternions, but stays exact in float32 near the goal.
    w = (qa * qb).sum(-1)
    v = qb[:, :1] * qa[:, 1:] - qa[:, :1] * qb[:, 1:] - torch.linalg.cross(qa[:, 1:], qb[:, 1:])
    d_rot = 2 * torch.atan2(torch.linalg.vector_norm(v, dim=-1), w)
    return -(10.0 * d_pos + d_rot), {"position": -10.0 * d_pos, "rotation": -d_rot}
