#!/usr/bin/env bash
# One command for a lent GPU machine (the `device` tool's `run`; H200, 16 cores, python3
# 3.12 with CUDA torch and jax but no gymnasium/mujoco/SB3): every `gpu`-marked test and
# the benchmarks that use the GPU or the cores, in under 8 minutes, results under $OUT.
#
#   run(command="bash scripts/device-check.sh", carry=[".whl"], timeout_s=540)
#
# .whl (ignored; `bash scripts/device-wheels.sh` fills it, 31 MiB; see ../shared/FACTS.md
# and the device README) holds cp312 wheels of what
# the machine lacks: gymnasium, farama-notifications, mujoco (+ glfw, pyopengl),
# stable-baselines3, minigrid + pygame, mujoco-mjx 3.3.0 + trimesh (its jax is the
# machine's own CUDA jax). Without a .whl folder the script uses whatever
# python3 already has, and says so. Stages have their own time limits (TESTS_S, BENCH_S)
# so that one stuck stage cannot eat the others' time; each stage's exit status is in
# $OUT/status.txt, and the script exits non-zero when any stage failed.
set -uo pipefail

OUT=${OUT:?set OUT to the folder for results}
PY=${PY:-python3}
TESTS_S=${TESTS_S:-130}
BENCH_S=${BENCH_S:-170}
MJX_S=${MJX_S:-170}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SITE=${SITE:-/tmp/agentgym-site}
cd "$ROOT"
: >"$OUT/status.txt"
stage() { # stage NAME SECONDS COMMAND...: run with a time limit, log, record the status
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s): $*"
    timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name rc=$rc" | tee -a "$OUT/status.txt"
    tail -n 25 "$OUT/$name.log"
    return 0
}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
    echo "cores: $(nproc)"
    "$PY" -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    "$PY" -c "import jax; print('jax', jax.__version__, jax.devices())" 2>&1 | tail -n 1
} >"$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

mkdir -p "$SITE"
if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .whl/*.whl || exit 1
else
    echo "no .whl folder: using the packages python3 already has"
fi
# The project itself, installed beside the wheels; the checkout's agentgym/ moves aside so
# that `import agentgym` finds the installed package (with its envs), not the source folder.
"$PY" -m pip install -q --no-deps --no-build-isolation --no-compile --target "$SITE" . || exit 1
mv agentgym /tmp/agentgym-source-aside
export PYTHONPATH="$SITE:$ROOT" MUJOCO_GL=${MUJOCO_GL:-disable} PYTHONUNBUFFERED=1

# Only the files that hold gpu-marked tests: collecting the whole suite would import
# packages that machine lacks (openai, miniwob, ...) in modules with no gpu test.
mapfile -t GPU_FILES < <(grep -rlE "mark\.gpu|pytest\.mark\.gpu" tests --include="test_*.py")
echo "gpu-marked test files: ${GPU_FILES[*]}"
stage gpu-tests "$TESTS_S" "$PY" -m pytest -m gpu -q -p no:cacheprovider --timeout 180 "${GPU_FILES[@]}"
# The benchmarks, short: one repeat each. vector: the physics ceiling on every core; clip:
# CLIP on the GPU; ppo: PPO and SB3, the throughput preset, 2 threads against every core.
stage bench "$BENCH_S" env AGENTGYM_BENCH_REPEATS=1 AGENTGYM_BENCH_STEPS=8192 \
    "$PY" -m bench vector clip ppo --cpu-threads 2,all

# MuJoCo XLA on the GPU: HalfCheetah env steps/s at 4,096 and 16,384 envs (each compiles
# once, ~80 s measured at 16,384), then PPO with the physics on JAX's GPU and the learner
# on cuda at 16,384 envs for 1M steps (bench/bench_mjx.py). The equality test against the
# CPU physics on the GPU is in gpu-tests above (tests/envs/test_mjx_batch.py).
stage mjx "$MJX_S" env AGENTGYM_BENCH_MJX_ENVS=4096,16384 AGENTGYM_BENCH_MJX_STEPS=50 \
    AGENTGYM_BENCH_MJX_PPO_STEPS=1048576 "$PY" -m bench mjx

mv /tmp/agentgym-source-aside agentgym
cp bench/results/summary.md "$OUT/" 2>/dev/null
tar czf "$OUT/results.tar.gz" bench/results
! grep -qv " rc=0$" "$OUT/status.txt"
