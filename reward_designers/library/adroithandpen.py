"""Human reward for agentgym/AdroitHandPen-v0: Gymnasium-Robotics' dense reward (v1), as a
program: minus the pen-target distance plus the cosine between their axes, bonuses when
both are close, a penalty when the pen has dropped."""

import torch


def compute_reward(state, action):
    distance = torch.linalg.vector_norm(state["pen_pos"] - state["pen_target_pos"], dim=-1)
    similarity = torch.nn.functional.cosine_similarity(
        state["pen_top_pos"] - state["pen_bottom_pos"],
        state["target_top_pos"] - state["target_bottom_pos"],
        dim=-1,
    )
    near = distance < 0.075
    bonus = 10.0 * (near & (similarity > 0.9)) + 50.0 * (near & (similarity > 0.95))
    dropped = -5.0 * (state["pen_pos"][:, 2] < 0.075)
    reward = -distance + similarity + bonus + dropped
    return reward, {
        "distance": -distance,
        "orientation": similarity,
        "bonus": bonus,
        "dropped": dropped,
    }
