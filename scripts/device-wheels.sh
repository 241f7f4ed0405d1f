#!/usr/bin/env bash
# Fill .whl/ (git-ignored) with the cp312 wheels scripts/device-check.sh installs on a lent
# GPU machine, whose python3 3.12 has CUDA torch and jax but none of these (FACTS.md):
#
#   bash scripts/device-wheels.sh      # here, once, with the package registry reachable
#   run(command="OUT=$OUT bash scripts/device-check.sh", carry=[".whl"], timeout_s=540)
#
# Pure-Python wheels come as they are; mujoco, pygame and glfw as manylinux cp312 x86-64
# builds. The device tool carries at most 64 MiB with the working tree: the script prints
# the folder's size and fails above 48 MiB, leaving room for the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p .whl
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --abi cp312 --platform manylinux2014_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 -d .whl \
    gymnasium==1.2.2 farama-notifications==0.0.4 mujoco==3.3.0 glfw pyopengl \
    stable-baselines3==2.7.0 minigrid==3.0.0 pygame==2.6.1 mujoco-mjx==3.3.0 trimesh
ls -1 .whl
size_kb=$(du -sk .whl | cut -f1)
echo ".whl: $((size_kb / 1024)) MiB"
if [ "$size_kb" -gt $((48 * 1024)) ]; then
    echo "too large to carry beside the checkout (64 MiB in all)" >&2
    exit 1
fi
