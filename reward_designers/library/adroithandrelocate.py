"""Human reward for agentgym/AdroitHandRelocate-v0: Gymnasium-Robotics' dense reward (v1), as
a program: the palm-ball term (+0.1 x their distance, as the env has it), once the ball is
off the table a lift bonus and the palm and ball drawn to the target, and bonuses when the
ball is near the target."""

import torch


def compute_reward(state, action):
    ball, palm, target = state["ball_pos"], state["palm_pos"], state["target_pos"]
    distance = torch.linalg.vector_norm(ball - target, dim=-1)
    reach = 0.1 * torch.linalg.vector_norm(palm - ball, dim=-1)
    lifted = (ball[:, 2] > 0.04).float()
    carry = lifted * (1.0 - 0.5 * torch.linalg.vector_norm(palm - target, dim=-1) - 0.5 * distance)
    near = 10.0 * (distance < 0.1) + 20.0 * (distance < 0.05)
    reward = reach + carry + near
    return reward, {"reach": reach, "carry": carry, "near": near}
