"""Human reward for agentgym/AdroitHandHammer-v0: Gymnasium-Robotics' dense reward (v1), as
a program: the palm-hammer term (+0.1 x their distance, as the env has it), the hammer head
to the nail, the nail into the board, a velocity penalty, and bonuses for lifting the
hammer and for driving the nail."""

import torch


def compute_reward(state, action):
    hammer, head = state["hammer_pos"], state["hammer_head_pos"]
    nail, goal = state["nail_pos"], state["nail_goal_pos"]
    depth = torch.linalg.vector_norm(nail - goal, dim=-1)
    grasp = 0.1 * torch.linalg.vector_norm(state["palm_pos"] - hammer, dim=-1)
    strike = -torch.linalg.vector_norm(head - nail, dim=-1)
    drive = -10.0 * depth
    velocity = -1e-2 * torch.linalg.vector_norm(state["qvel"], dim=-1)
    lifted = 2.0 * ((hammer[:, 2] > 0.04) & (head[:, 2] > 0.04))
    driven = 25.0 * (depth < 0.02) + 75.0 * (depth < 0.01)
    reward = grasp + strike + drive + velocity + lifted + driven
    terms = {"grasp": grasp, "strike": strike, "drive": drive, "velocity": velocity}
    return reward, {**terms, "lifted": lifted, "driven": driven}
