"""The MetaWorld v3 tasks of agentgym: one small class per task (manual, TaskSpec, and the
few values its reward reads beyond the shared state). The machinery is in
``manipulation.py``."""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.envs.robotics.manipulation import MetaWorldTask, f32, manual, task_spec
from agentgym.spec import StateVar

DOOR_ANGLE = StateVar(
    "door_angle", (), "float32", "rad", "door opening angle: 0 closed, about 1.6 wide open"
)
PEG = (
    StateVar(
        "peg_head_pos",
        (3,),
        "float32",
        "m",
        "position of the peg's head (the end that goes into the hole)",
    ),
    StateVar(
        "peg_head_init_pos",
        (3,),
        "float32",
        "m",
        "the peg head's reference start position used by MetaWorld's reward",
    ),
    StateVar(
        "hole_clearance_boxes",
        (2, 2, 3),
        "float32",
        "m",
        "two boxes in front of the hole, each as (bottom-right, top-left) corner; the peg head "
        "scores less the deeper it is inside them (it should pass through the hole, not the wall)",
    ),
)
PAD_INIT = (
    StateVar(
        "left_pad_init_pos",
        (3,),
        "float32",
        "m",
        "left finger pad position at the start of the episode",
    ),
    StateVar(
        "right_pad_init_pos",
        (3,),
        "float32",
        "m",
        "right finger pad position at the start of the episode",
    ),
)


class MetaWorldReachEnv(MetaWorldTask):
    env_name = "reach-v3"
    __doc__ = manual(
        "Reach",
        env_name,
        "a puck on the table (not used by the task)",
        "Move the gripper to a goal position in the air.",
        "One term `dense` = 10 * tolerance(|tcp - goal|, within 5 cm, long tail scaled by the "
        "initial hand-goal distance).",
        "the tool centre point is within 5 cm of the goal.",
    )
    task_spec = task_spec(
        "Reach",
        "Move the robot gripper to the goal position.",
        "The tool centre point is within 0.05 m of the goal.",
        "a puck on the table (not part of this task)",
        ("reach", "goal", "position"),
    )


class MetaWorldPushEnv(MetaWorldTask):
    env_name = "push-v3"
    __doc__ = manual(
        "Push",
        env_name,
        "the puck",
        "Push a puck across the table to a goal position.",
        "One term `dense`: caging the puck between the fingers (up to 2), plus 1 + 5 * "
        "closeness of the puck to the goal once the open gripper is within 2 cm; 10 when "
        "the puck is within 5 cm of the goal.",
        "the puck is within 5 cm of the goal.",
    )
    task_spec = task_spec(
        "Push",
        "Push the puck across the table to the goal position.",
        "The puck is within 0.05 m of the goal.",
        "the puck",
        ("push", "object", "goal", "table"),
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        return self.inner.obj_init_pos  # the reference MetaWorld's reward uses


class MetaWorldPickPlaceEnv(MetaWorldTask):
    env_name = "pick-place-v3"
    __doc__ = manual(
        "PickPlace",
        env_name,
        "the puck",
        "Pick a puck up from the table and place it at a goal position in the air.",
        "One term `dense`: grasping (caging and closing the fingers around the puck) times "
        "closeness to the goal, plus 1 + 5 * closeness once the puck is lifted in the "
        "gripper; 10 when the puck is within 5 cm of the goal.",
        "the puck is within 7 cm of the goal.",
        extra_rows="| `left_pad_init_pos`, `right_pad_init_pos` | (3,) | m | finger pads at the episode start |\n",
    )
    task_spec = task_spec(
        "PickPlace",
        "Pick up the puck and place it at the goal position.",
        "The puck is within 0.07 m of the goal.",
        "the puck",
        ("pick", "place", "grasp", "lift", "object", "goal"),
        PAD_INIT,
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        return self.inner.obj_init_pos  # the reference MetaWorld's reward uses

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {
            "left_pad_init_pos": f32(self.inner.init_left_pad),
            "right_pad_init_pos": f32(self.inner.init_right_pad),
        }


class MetaWorldDoorOpenEnv(MetaWorldTask):
    env_name = "door-open-v3"
    __doc__ = manual(
        "DoorOpen",
        env_name,
        "the door handle",
        "Open a door with a revolving joint by pulling its handle.",
        "Components: `ready` = 2 * (gripper above the handle's floor and near the handle, "
        "combined with the grip effort) and `opened` = 8 * (0.2 for starting to open, 0.8 "
        "for the door opened towards 120 degrees); when the handle is within 8 cm of the "
        "goal in x the reward is 10 and `ready` takes the difference.",
        "the handle is within 8 cm of the goal along x.",
        extra_rows="| `door_angle` | () | rad | door opening angle |\n",
    )
    task_spec = task_spec(
        "DoorOpen",
        "Open the door by pulling its handle.",
        "The door handle is within 0.08 m of the goal along x.",
        "the door handle",
        ("door", "open", "articulated", "pull"),
        (DOOR_ANGLE,),
    )

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {"door_angle": f32(-self.inner.data.joint("doorjoint").qpos.item())}

    def _terms(self, reward: float, info: dict[str, Any]) -> dict[str, float]:
        # MetaWorld reports 8 * opened as... nothing: recompute `opened` from the state the
        # reward read, so that ready + opened == reward exactly.
        from metaworld.envs.sawyer_door_v3 import SawyerDoorEnvV3

        obs = self.inner._last_stable_obs
        theta = float(self.inner.data.joint("doorjoint").qpos.item())
        opened = 8.0 * SawyerDoorEnvV3._reward_pos(obs, theta)[1]
        return {"ready": reward - opened, "opened": opened}


class MetaWorldDrawerOpenEnv(MetaWorldTask):
    env_name = "drawer-open-v3"
    __doc__ = manual(
        "DrawerOpen",
        env_name,
        "the drawer handle",
        "Pull a drawer open by its handle.",
        "Components: `caging` = 5 * closeness of the gripper to the handle (x, y weighted "
        "3x); `opening` = 5 * closeness of the handle to the open position.",
        "the handle is within 3 cm of the open position.",
    )
    task_spec = task_spec(
        "DrawerOpen",
        "Pull the drawer open by its handle.",
        "The drawer handle is within 0.03 m of the fully open position.",
        "the drawer handle",
        ("drawer", "open", "pull", "articulated"),
    )

    def _terms(self, reward: float, info: dict[str, Any]) -> dict[str, float]:
        return {"caging": 5.0 * info["grasp_reward"], "opening": 5.0 * info["in_place_reward"]}


class MetaWorldDrawerCloseEnv(MetaWorldTask):
    env_name = "drawer-close-v3"
    __doc__ = manual(
        "DrawerClose",
        env_name,
        "the drawer handle",
        "Push an open drawer closed.",
        "One term `dense` = 10 * (reaching the handle with the gripper closing) combined "
        "with closeness of the handle to the closed position; 10 when within 6.5 cm.",
        "the handle is within 6.5 cm of the closed position.",
    )
    task_spec = task_spec(
        "DrawerClose",
        "Push the open drawer closed.",
        "The drawer handle is within 0.065 m of the closed position.",
        "the drawer handle",
        ("drawer", "close", "push", "articulated"),
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        return self.inner.obj_init_pos  # the reference MetaWorld's reward uses


class MetaWorldButtonPressEnv(MetaWorldTask):
    env_name = "button-press-v3"
    __doc__ = manual(
        "ButtonPress",
        env_name,
        "the button",
        "Press a button on a box, pushing it in horizontally (along +y).",
        "One term `dense`: 2 * (closed fingers combined with closeness to the button), plus "
        "8 * how far the button is pressed once the gripper is within 5 cm of it.",
        "the button is within 2 cm of fully pressed.",
    )
    task_spec = task_spec(
        "ButtonPress",
        "Press the button on the box by pushing it in (along +y).",
        "The button is within 0.02 m of fully pressed (along y).",
        "the button",
        ("button", "press", "push", "articulated"),
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        # The reward measures the press from the button's resting face ("buttonStart").
        return self.inner._get_site_pos("buttonStart")


class MetaWorldWindowOpenEnv(MetaWorldTask):
    env_name = "window-open-v3"
    __doc__ = manual(
        "WindowOpen",
        env_name,
        "the window handle",
        "Slide a window open (along +x) by its handle.",
        "One term `dense` = 10 * (gripper near the handle) combined with (handle near the "
        "open position along x).",
        "the handle is within 5 cm of the open position along x.",
    )
    task_spec = task_spec(
        "WindowOpen",
        "Slide the window open (to +x) by pushing its handle.",
        "The window handle is within 0.05 m of the open position along x.",
        "the window handle",
        ("window", "open", "slide", "articulated"),
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        return self.inner.window_handle_pos_init


class MetaWorldWindowCloseEnv(MetaWorldTask):
    env_name = "window-close-v3"
    __doc__ = manual(
        "WindowClose",
        env_name,
        "the window handle",
        "Slide an open window closed (along -x) by its handle.",
        "One term `dense` = 10 * (gripper near the handle, gaussian) combined with (handle "
        "near the closed position along x).",
        "the handle is within 5 cm of the closed position along x.",
    )
    task_spec = task_spec(
        "WindowClose",
        "Slide the open window closed (to -x) by pushing its handle.",
        "The window handle is within 0.05 m of the closed position along x.",
        "the window handle",
        ("window", "close", "slide", "articulated"),
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        # The handle where the open window starts (MetaWorld: closed position + 0.2 m in x).
        return self.inner.window_handle_pos_init


class MetaWorldLeverPullEnv(MetaWorldTask):
    env_name = "lever-pull-v3"
    __doc__ = manual(
        "LeverPull",
        env_name,
        "the end of the lever",
        "Pull a lever up by 90 degrees.",
        "One term `dense` = 10 * (gripper's shoulder under the lever end) combined with "
        "(lever end near the raised position).",
        "the lever is raised within 7.5 degrees of vertical.",
    )
    task_spec = task_spec(
        "LeverPull",
        "Pull the lever up until it points straight up.",
        "The lever is within pi/24 rad (7.5 degrees) of vertical.",
        "the end of the lever",
        ("lever", "pull", "lift", "articulated"),
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        return self.inner._lever_pos_init


class MetaWorldPegInsertSideEnv(MetaWorldTask):
    env_name = "peg-insert-side-v3"
    expert_policy = "SawyerPegInsertionSideV3Policy"
    __doc__ = manual(
        "PegInsertSide",
        env_name,
        "the peg",
        "Pick up a peg and insert it sideways into a hole in a box.",
        "One term `dense`: grasping the peg times closeness of its head to the hole (scaled "
        "1, 2, 2 in x, y, z, and discounted inside the clearance boxes in front of the hole), "
        "plus 1 + 5 * that closeness once the peg is lifted in the gripper; 10 when the head "
        "is within 7 cm of the goal.",
        "the peg head is within 7 cm (scaled distance) of the goal inside the hole.",
        extra_rows=(
            "| `peg_head_pos`, `peg_head_init_pos` | (3,) | m | the peg's head, now and as reference |\n"
            "| `hole_clearance_boxes` | (2, 2, 3) | m | corners of two boxes in front of the hole |\n"
        ),
    )
    task_spec = task_spec(
        "PegInsertSide",
        "Pick up the peg and insert it sideways into the hole in the box.",
        "The peg head is within 0.07 m (distance scaled 1, 2, 2 in x, y, z) of the goal inside the hole.",
        "the peg (its grasp point)",
        ("peg", "insert", "pick", "grasp", "precision"),
        PEG,
    )

    def _obj_init_pos(self, obs: np.ndarray) -> np.ndarray:
        return self.inner.obj_init_pos

    def _extra_state(self) -> dict[str, np.ndarray]:
        site = self.inner._get_site_pos
        boxes = [
            [
                site(f"bottom_right_corner_collision_box_{i}"),
                site(f"top_left_corner_collision_box_{i}"),
            ]
            for i in (1, 2)
        ]
        return {
            "peg_head_pos": f32(site("pegHead")),
            "peg_head_init_pos": f32(self.inner.peg_head_pos_init),
            "hole_clearance_boxes": f32(boxes),
        }
