"""Headless MuJoCo frames, fast: shadows and reflections off.

FACTS.md measured default scenes at 25-34 fps at 224x224 on this CPU and ~145-185 fps
with shadows and reflections off; reward models that look at frames (VLM-RM) render
every step, so the fast path is the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def free_camera(model, config: Mapping[str, Any]):
    """An ``MjvCamera`` set up from a Gymnasium ``default_camera_config`` dict.

    Gymnasium's MuJoCo envs describe their viewpoint as attributes of ``MjvCamera``
    (``distance``, ``elevation``, ``lookat``, ``trackbodyid``); a ``trackbodyid`` makes it
    a tracking camera, which follows a walking robot as Gymnasium's own render does.
    """
    import mujoco

    cam = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(model, cam)
    for key, value in config.items():
        if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
            getattr(cam, key)[:] = value
        else:
            setattr(cam, key, value)
    if config.get("trackbodyid", -1) >= 0:
        cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    return cam


class FrameRenderer:
    """Renders RGB frames of a MuJoCo model; the GL context is made on first use.

    ``camera`` is a camera name or id of the model, -1 for the free camera, or an
    ``MjvCamera`` (see :func:`free_camera`). ``flip`` turns frames upside down, for
    cameras whose up axis points down (MetaWorld's "corner" camera, FACTS.md).
    """

    def __init__(
        self,
        model,
        width: int = 224,
        height: int = 224,
        camera: Any = -1,
        fast: bool = True,
        flip: bool = False,
    ) -> None:
        self.model = model
        self.width, self.height = int(width), int(height)
        self.camera = camera
        self.fast = fast
        self.flip = flip
        self._renderer = None

    def render(self, data) -> np.ndarray:
        import mujoco

        if self._renderer is None:
            # The offscreen buffer must hold the frame; models ship with 640x480.
            vis = self.model.vis.global_
            vis.offwidth = max(vis.offwidth, self.width)
            vis.offheight = max(vis.offheight, self.height)
            self._renderer = mujoco.Renderer(self.model, height=self.height, width=self.width)
        self._renderer.update_scene(data, camera=self.camera)
        if self.fast:
            flags = self._renderer.scene.flags
            flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
            flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        frame = self._renderer.render()
        return np.ascontiguousarray(frame[::-1, ::-1] if self.flip else frame)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
