"""agentgym/CartPole-v0 and agentgym/MountainCar-v0: Gymnasium's classic-control tasks
with the agentgym contract, for rewards that look at frames (VLM-RM's CLIP reward).

Both hold Gymnasium's env inside (composition): observation, actions, dynamics, reward
and episode end are Gymnasium's. Frames come from Gymnasium's pygame renderer; it runs
headless because `agentgym.envs.robotics` sets `SDL_VIDEODRIVER=dummy`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from agentgym.core import TaskEnv
from agentgym.spec import StateVar, TaskSpec


class ClassicControlTask(TaskEnv, EzPickle):
    """A Gymnasium classic-control env inside a TaskEnv; frames ``width`` x ``height``."""

    gym_class: ClassVar[str]
    dense_reward: ClassVar[bool] = True
    term_name: ClassVar[str]

    def __init__(
        self,
        reward: Any = None,
        render_mode: str | None = None,
        width: int = 600,
        height: int = 400,
    ) -> None:
        EzPickle.__init__(self, reward=reward, render_mode=render_mode, width=width, height=height)
        super().__init__(reward=reward, render_mode=render_mode)
        from agentgym.registry import load_target

        self.inner = load_target(self.gym_class)(render_mode=render_mode)
        # Gymnasium's classic renderers draw on a canvas of screen_width x screen_height.
        self.inner.screen_width, self.inner.screen_height = int(width), int(height)
        self.observation_space = self.inner.observation_space
        self.action_space = self.inner.action_space
        self.metadata = {
            "render_modes": ["rgb_array"],
            "render_fps": self.inner.metadata["render_fps"],
        }

    def _state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError  # abstract: each task names its state

    def _success(self, terminated: bool, truncated: bool) -> bool:
        raise NotImplementedError  # abstract: each task defines success

    def _on_reset(self) -> None:
        """Per-episode bookkeeping."""

    def _reset(self, *, seed, options):
        obs, _ = self.inner.reset(seed=seed, options=options)
        self._on_reset()
        return obs, {"reward_state": self._state(), "success": False}

    def _step(self, action):
        obs, reward, terminated, truncated, _ = self.inner.step(action)
        info = {
            "reward_state": self._state(),
            "success": bool(self._success(bool(terminated), bool(truncated))),
            "env_reward_terms": {self.term_name: float(reward)},
        }
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self.inner.render()

    def close(self) -> None:
        self.inner.close()


class CartPoleExpert:
    """Scripted expert of CartPole: push towards where the pole falls, a linear rule on
    the pole's angle and spin, with small cart terms that keep the cart near the centre."""

    gains = (0.05, 0.1, 1.0, 0.5)
    """Weights of cart position, cart velocity, pole angle, pole angular velocity."""

    def get_action(self, obs: np.ndarray) -> int:
        return int(float(np.dot(self.gains, obs)) > 0.0)


class MountainCarExpert:
    """Scripted expert of MountainCar: energy pumping, accelerate the way the car moves
    (right when at rest)."""

    def get_action(self, obs: np.ndarray) -> int:
        return 0 if obs[1] < 0.0 else 2


class CartPoleEnv(ClassicControlTask):
    """agentgym/CartPole-v0: balance a pole on a cart (Gymnasium's CartPole-v1 inside).

    ## Description
    A pole is hinged to a cart on a frictionless track; pushing the cart left or right
    keeps the pole upright. VLM-RM's first task: a CLIP reward with the goal "pole
    vertically upright on top of the cart" learns it from frames alone.

    ## Action space
    `Discrete(2)`: 0 pushes the cart left, 1 right (10 N).

    ## Observation space
    Gymnasium's `Box(4,)`: cart position, cart velocity, pole angle, pole angular velocity.

    ## Reward state
    | name | shape | units | meaning |
    |---|---|---|---|
    | `cart_position` | () | m | cart x, 0 at the centre, the track ends at +-2.4 |
    | `cart_velocity` | () | m/s | cart velocity |
    | `pole_angle` | () | rad | pole angle from vertical; the episode ends beyond +-0.2095 |
    | `pole_angular_velocity` | () | rad/s | pole angular velocity |

    ## Rewards (the human reward, also `reward_designers/library/cartpole.py`)
    Gymnasium's: `alive` = +1 for every step, the falling step included.

    ## Success
    The pole is still up after 500 steps (`info["success"]` is True at the step that
    reaches 500 without termination).

    ## Fitness
    `info["fitness"]`: the share of the 500 steps survived so far (1 for a full episode).

    ## Episode end
    Terminated when the pole leans beyond 12 degrees or the cart leaves the track;
    truncated after 500 steps.

    ## Expert
    `CartPoleEnv.expert()`: a linear balancing rule on the observation (balances 500 steps).

    ## Rendering
    `render_mode="rgb_array"` gives `height` x `width` x 3 frames (default 400 x 600).

    ## Version history
    - v0: first release (Gymnasium CartPole-v1 inside).
    """

    gym_class = "gymnasium.envs.classic_control.cartpole:CartPoleEnv"
    term_name = "alive"
    horizon = 500
    task_spec = TaskSpec(
        name="CartPole",
        instruction="Keep the pole balanced upright on top of the cart by pushing the cart left or right.",
        success="The pole is still upright (within 12 degrees) and the cart on the track after 500 steps.",
        fitness="the share of the 500-step episode survived (steps before the pole fell / 500)",
        termination="failure",
        action_meaning="0 pushes the cart to the left, 1 pushes it to the right.",
        family="vlm",
        robot="CartPole",
        tags=("cartpole", "balance", "classic-control", "vlm-rm", "discrete"),
        state=(
            StateVar(
                "cart_position",
                (),
                "float32",
                "m",
                "cart position, 0 at the centre; the track ends at +-2.4",
            ),
            StateVar("cart_velocity", (), "float32", "m/s", "cart velocity"),
            StateVar(
                "pole_angle",
                (),
                "float32",
                "rad",
                "pole angle from vertical; the pole falls beyond +-0.21",
            ),
            StateVar("pole_angular_velocity", (), "float32", "rad/s", "pole angular velocity"),
        ),
    )

    @classmethod
    def expert(cls) -> CartPoleExpert:
        """A linear balancing rule (``CartPoleExpert``)."""
        return CartPoleExpert()

    def _on_reset(self) -> None:
        self._steps = 0

    def _state(self) -> dict[str, np.ndarray]:
        x, x_dot, theta, theta_dot = (np.float32(v) for v in self.inner.state)
        return {
            "cart_position": np.array(x),
            "cart_velocity": np.array(x_dot),
            "pole_angle": np.array(theta),
            "pole_angular_velocity": np.array(theta_dot),
        }

    def _success(self, terminated: bool, truncated: bool) -> bool:
        self._steps += 1
        return self._steps >= self.horizon and not terminated

    def _fitness(self, info: dict[str, Any]) -> float:
        return min(self._steps, self.horizon) / self.horizon


class MountainCarEnv(ClassicControlTask):
    """agentgym/MountainCar-v0: drive an underpowered car up a hill (Gymnasium's
    MountainCar-v0 inside).

    ## Description
    A car in a valley must reach the flag on the right hill; its engine is too weak to
    climb directly, so it must swing back and forth to build momentum. A VLM-RM task
    (goal "a car at the peak of the mountain, next to the yellow flag").

    ## Action space
    `Discrete(3)`: 0 accelerate left, 1 do nothing, 2 accelerate right.

    ## Observation space
    Gymnasium's `Box([-1.2, -0.07], [0.6, 0.07])`: position and velocity of the car.

    ## Reward state
    | name | shape | units | meaning |
    |---|---|---|---|
    | `position` | () | - | car position along the track, in [-1.2, 0.6] |
    | `velocity` | () | - | car velocity, in [-0.07, 0.07] |
    | `goal_position` | () | - | position of the flag, 0.5 |

    ## Rewards (the human reward, also `reward_designers/library/mountaincar.py`)
    Gymnasium's: `time` = -1 for every step.

    ## Success
    The car reaches the flag (position >= 0.5).

    ## Fitness
    `info["fitness"]`: the rightmost position reached so far, normalised from the left
    end of the track (0, at -1.2) to the flag (1, at 0.5).

    ## Episode end
    Terminated at the flag; truncated after 200 steps.

    ## Expert
    `MountainCarEnv.expert()`: energy pumping (reaches the flag in ~120 steps).

    ## Rendering
    `render_mode="rgb_array"` gives `height` x `width` x 3 frames (default 400 x 600).

    ## Version history
    - v0: first release (Gymnasium MountainCar-v0 inside).
    """

    gym_class = "gymnasium.envs.classic_control.mountain_car:MountainCarEnv"
    term_name = "time"
    task_spec = TaskSpec(
        name="MountainCar",
        instruction="Drive the car up the right hill to the yellow flag, swinging back and forth to gain momentum.",
        success="The car reaches the flag at position 0.5.",
        fitness=(
            "the rightmost position reached in the episode, normalised: 0 at the left end "
            "of the track (-1.2), 1 at the flag (0.5)"
        ),
        termination="success",
        action_meaning="0 accelerates left, 1 does nothing, 2 accelerates right.",
        family="vlm",
        robot="MountainCar",
        tags=("mountain-car", "momentum", "classic-control", "vlm-rm", "discrete"),
        state=(
            StateVar(
                "position",
                (),
                "float32",
                "-",
                "car position along the track, from -1.2 (left) to 0.6 (right)",
            ),
            StateVar(
                "velocity",
                (),
                "float32",
                "-",
                "car velocity, from -0.07 to 0.07 (positive is to the right)",
            ),
            StateVar(
                "goal_position", (), "float32", "-", "position of the flag on the right hill (0.5)"
            ),
        ),
    )

    @classmethod
    def expert(cls) -> MountainCarExpert:
        """Energy pumping (``MountainCarExpert``)."""
        return MountainCarExpert()

    def _state(self) -> dict[str, np.ndarray]:
        position, velocity = self.inner.state
        return {
            "position": np.array(np.float32(position)),
            "velocity": np.array(np.float32(velocity)),
            "goal_position": np.array(np.float32(self.inner.goal_position)),
        }

    def _on_reset(self) -> None:
        self._max_position = float(self.inner.state[0])

    def _success(self, terminated: bool, truncated: bool) -> bool:
        self._max_position = max(self._max_position, float(self.inner.state[0]))
        return bool(terminated)

    def _fitness(self, info: dict[str, Any]) -> float:
        low, goal = self.inner.min_position, self.inner.goal_position
        return float(np.clip((self._max_position - low) / (goal - low), 0.0, 1.0))
