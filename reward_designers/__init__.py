"""agentgym.reward_designers: turn a TaskSpec and an LLM (or a VLM, or a progress
estimator) into rewards. ``library/`` holds the human reward of every env as a reward
program, which the tests check against the env's dense reward and which serve as
few-shot examples."""
