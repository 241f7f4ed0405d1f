"""VLM-RM's CLIP reward on a tiny random-weights CLIP loaded through from_pretrained."""

from __future__ import annotations

import pickle
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import pytest
import torch

from agentgym.reward_designers.clip import (
    ClipReward,
    parse_clip_args,
    projection_matrix,
    reward_from_spec,
)
from agentgym.reward_designers.clip.backends import TransformersEncoder, load_encoder
from agentgym.rewards import RewardSpecError, WeightedSum, parse_reward_spec
from agentgym.testing.tiny import build_tiny_clip

GOALS = ("the pole is upright", "a pole up")
BASELINES = ("the pole is fallen",)


def _spec(path: str, alpha: float, **extra: object) -> str:
    more = "".join(f";{k}={v}" for k, v in extra.items())
    return f"model={path};goal={'|'.join(GOALS)};baseline={'|'.join(BASELINES)};alpha={alpha}{more}"


def _frames(n: int, seed: int = 0, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)


def _hand_reward(path: str, frames: np.ndarray, alpha: float) -> np.ndarray:
    """The reward computed by hand in float64 from the transformers model's own outputs."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(path).eval()
    tok = AutoTokenizer.from_pretrained(path)
    enc = load_encoder(path, device="cpu")

    def text(prompts):
        t = tok(list(prompts), padding=True, return_tensors="pt")
        e = model.get_text_features(**t).pooler_output.double().numpy()
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    with torch.no_grad():
        pixels = enc.preprocess(torch.from_numpy(frames))
        img = model.get_image_features(pixel_values=pixels).pooler_output.double().numpy()
        g = text(GOALS).mean(axis=0)  # mean of unit embeddings, not re-normalised
        b = text(BASELINES).mean(axis=0)
    x = img / np.linalg.norm(img, axis=1, keepdims=True)
    d = (g - b)[None, :]
    P = alpha * (d.T @ d) / (d @ d.T).item() + (1 - alpha) * np.eye(len(g))
    y = (x - g[None, :]) @ P
    return 1.0 - 0.5 * (y * y).sum(axis=1)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_reward_matches_hand_computation(tiny_clip: str, alpha: float) -> None:
    frames = _frames(6)
    model = reward_from_spec(_spec(tiny_clip, alpha))
    got = model.score_frames(frames).double().numpy()
    want = _hand_reward(tiny_clip, frames, alpha)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # The rewards are not all alike, so the comparison above could have failed.
    assert np.ptp(want) > 1e-4


def test_alpha_limits_have_closed_forms(tiny_clip: str) -> None:
    frames = _frames(5, seed=3)
    one_goal = f"model={tiny_clip};goal={GOALS[0]};baseline={BASELINES[0]}"
    plain = reward_from_spec(one_goal + ";alpha=0")
    x = plain.embed_frames(frames)
    g = plain.goal_embedding
    # alpha = 0 with one goal prompt: 1 - ||x - g||^2 / 2 = x . g for unit x and g.
    torch.testing.assert_close(plain.score_frames(frames), x @ g, atol=1e-5, rtol=0)
    # alpha = 1: only the component along d = g - b is kept.
    direction = reward_from_spec(one_goal + ";alpha=1")
    d = g - direction.baseline_embedding
    along = (x - g) @ d / d.norm()
    torch.testing.assert_close(
        direction.score_frames(frames), 1 - 0.5 * along**2, atol=1e-5, rtol=0
    )


def test_projection_is_symmetric_and_interpolates() -> None:
    g, b = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    p1 = projection_matrix(g, b, 1.0)
    torch.testing.assert_close(p1, p1.T)
    torch.testing.assert_close(p1 @ p1, p1)  # alpha = 1 is an orthogonal projection
    torch.testing.assert_close(p1 @ torch.tensor([0.0, 0.0, 1.0]), torch.zeros(3))
    torch.testing.assert_close(projection_matrix(g, b, 0.0), torch.eye(3))
    torch.testing.assert_close(projection_matrix(g, b, 0.25), 0.25 * p1 + 0.75 * torch.eye(3))
    with pytest.raises(ValueError, match="same point"):
        projection_matrix(g, g.clone(), 0.5)


class FakeFreeRollout(NamedTuple):
    """The fields of agentgym.learners.rollout.Rollout that the relabeler reads."""

    frames: torch.Tensor


@pytest.mark.parametrize("steps,envs,batch", [(1, 1, 7), (13, 3, 7), (5, 4, 256)])
def test_batched_relabel_equals_per_frame(
    tiny_clip: str, steps: int, envs: int, batch: int
) -> None:
    frames = torch.from_numpy(_frames(steps * envs, seed=steps).reshape(steps, envs, 48, 48, 3))
    # Two models without a cache, so the per-frame loop really encodes every frame.
    batched = reward_from_spec(_spec(tiny_clip, 0.5, batch_size=batch, cache_size=0))
    single = reward_from_spec(_spec(tiny_clip, 0.5, cache_size=0))
    out = batched.relabel(FakeFreeRollout(frames))
    assert set(out) == {"reward", "clip"}
    assert out["reward"].shape == (steps, envs) and out["reward"].dtype == torch.float32
    loop = torch.tensor(
        [
            [single.score_frames(frames[t, i : i + 1].numpy())[0].item() for i in range(envs)]
            for t in range(steps)
        ]
    )
    torch.testing.assert_close(out["reward"], loop, atol=1e-5, rtol=0)


def test_relabel_of_episodes_of_varying_length(tiny_clip: str) -> None:
    """Episodes of 3, 5 and 8 steps laid out as a [T, N] rollout with resets inside it:
    every slot gets the reward of its own frame, whatever episode it belongs to."""
    lengths = [3, 5, 8]
    episodes = [_frames(n, seed=10 + n, size=40) for n in lengths]
    t_steps, n_envs = 9, 2
    slots = np.zeros((t_steps, n_envs, 40, 40, 3), np.uint8)
    owner = {}
    queue = [(e, s) for e, ep in enumerate(episodes) for s in range(len(ep))]
    for k, (e, s) in enumerate(queue):  # fill env 0 then env 1, episodes back to back
        t, i = k % t_steps, k // t_steps
        slots[t, i] = episodes[e][s]
        owner[(t, i)] = (e, s)
    model = reward_from_spec(_spec(tiny_clip, 1.0, batch_size=4))
    out = model.relabel(FakeFreeRollout(torch.from_numpy(slots)))["reward"]
    per_episode = [
        reward_from_spec(_spec(tiny_clip, 1.0, cache_size=0)).score_frames(ep) for ep in episodes
    ]
    for (t, i), (e, s) in owner.items():
        assert abs(out[t, i].item() - per_episode[e][s].item()) < 1e-5


def test_cache_reuses_repeated_frames(tiny_clip: str) -> None:
    model = reward_from_spec(_spec(tiny_clip, 0.5, batch_size=4))
    frames = _frames(3, seed=7)
    repeated = np.concatenate([frames, frames[::-1], frames])  # 9 frames, 3 distinct
    first = model.score_frames(repeated)
    assert model.cache_stats.misses == 3 and model.cache_stats.hits == 0
    torch.testing.assert_close(first[:3], first[6:])
    torch.testing.assert_close(first[:3], first[3:6].flip(0))
    again = model.score_frames(frames)
    assert model.cache_stats.hits == 3
    torch.testing.assert_close(again, first[:3])
    # A changed pixel is a different frame.
    frames[0, 0, 0, 0] ^= 1
    model.score_frames(frames[:1])
    assert model.cache_stats.misses == 4


def test_cache_is_bounded(tiny_clip: str) -> None:
    model = reward_from_spec(_spec(tiny_clip, 0.5, cache_size=4))
    model.score_frames(_frames(10, seed=1))
    assert len(model._cache) == 4


def test_model_is_loaded_once_per_process(tiny_clip: str) -> None:
    a = reward_from_spec(_spec(tiny_clip, 0.5))
    b = reward_from_spec(_spec(tiny_clip, 1.0))
    assert a.encoder is b.encoder
    assert isinstance(a.encoder, TransformersEncoder)
    c = pickle.loads(pickle.dumps(a))
    assert c.encoder is a.encoder and c.config == a.config


def test_preprocessing_matches_the_models_image_processor(tiny_clip: str) -> None:
    """The torch preprocessing stands in for CLIPImageProcessor (PIL); both must give
    nearly the same pixels, or real CLIP weights would see other images than in training."""
    from transformers import AutoImageProcessor

    frames = _frames(2, seed=5, size=60)
    frames[:, 10:40, 5:30] = [200, 30, 30]  # a flat patch, as rendered scenes have
    processor = AutoImageProcessor.from_pretrained(tiny_clip)
    want = processor(images=list(frames), return_tensors="pt")["pixel_values"]
    got = load_encoder(tiny_clip, device="cpu").preprocess(torch.from_numpy(frames))
    assert got.shape == want.shape == (2, 3, 32, 32)
    # Different resampling code (PIL vs torch antialias), same images: within a few
    # grey levels out of 255, measured in normalised units (std ~0.27).
    assert (got - want).abs().mean().item() < 0.05


def test_siglip_backend_loads_and_scores(tmp_path) -> None:
    path = build_tiny_clip(tmp_path / "siglip", kind="siglip")
    model = reward_from_spec(_spec(str(path), 0.5, cache_size=0))
    r = model.score_frames(_frames(4, seed=2))
    assert r.shape == (4,) and torch.isfinite(r).all()
    assert "Siglip" in type(model.encoder.model).__name__


def test_clip_args_parse_goals_baselines_alpha_and_batch(tiny_clip: str) -> None:
    cfg = parse_clip_args(f"model={tiny_clip};goal= a | b ;baseline=c;alpha=0.25;batch=8")
    assert (
        cfg.goal == ("a", "b")
        and cfg.baseline == ("c",)
        and cfg.alpha == 0.25
        and cfg.batch_size == 8
    )
    assert parse_clip_args(f"model={tiny_clip};goal=a;alpha=0").baseline == ()


def test_bad_clip_args_are_named(tiny_clip: str) -> None:
    with pytest.raises(ValueError, match="Did you mean 'baseline'"):
        parse_clip_args(f"model={tiny_clip};goal=a;baselin=b")
    with pytest.raises(ValueError, match="baseline= is required"):
        parse_clip_args(f"model={tiny_clip};goal=a;alpha=0.5")
    with pytest.raises(
        ValueError, match=r"ClipRewardConfig.alpha: expected a float in \[0, 1\], got 2.0"
    ):
        parse_clip_args(f"model={tiny_clip};goal=a;baseline=b;alpha=2")
    with pytest.raises(ValueError, match="goal= is required"):
        parse_clip_args(f"model={tiny_clip};baseline=b")
    with pytest.raises(RewardSpecError, match="no such folder"):
        parse_reward_spec("clip:model=/nonexistent/clip;goal=a;baseline=b")


def test_reward_spec_kind_and_weighted_mix(tiny_clip: str) -> None:
    model = parse_reward_spec(f"clip:{_spec(tiny_clip, 0.5)}")
    assert isinstance(model, ClipReward) and model.needs_frames
    mixed = parse_reward_spec(f"0.5*clip:{_spec(tiny_clip, 0.5)} + 1.0*env")
    assert isinstance(mixed, WeightedSum) and mixed.needs_frames


def test_gym_make_per_step_path_renders_headless(tiny_clip: str) -> None:
    """gym.make(..., reward="clip:...") renders a frame each step on CPU (EGL) and scores
    it as a batch of one; the reward equals scoring the same frame directly."""
    spec = f"clip:{_spec(tiny_clip, 0.5)}"
    env = gym.make("agentgym/Reach-v0", reward=spec, render_mode="rgb_array", width=64, height=64)
    try:
        env.reset(seed=0)
        reference = reward_from_spec(_spec(tiny_clip, 0.5, cache_size=0))
        for _ in range(3):
            _, reward, _, _, info = env.step(env.action_space.sample())
            frame = env.render()
            assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8 and frame.std() > 0
            assert info["reward_terms"] == {"clip": pytest.approx(reward)}
            assert reward == pytest.approx(reference.score_frames(frame[None])[0].item(), abs=1e-5)
            assert info["env_reward"] != reward
    finally:
        env.close()
    mixed = gym.make(
        "agentgym/Reach-v0",
        reward=f"0.5*{spec} + 1.0*env",
        render_mode="rgb_array",
        width=64,
        height=64,
    )
    try:
        mixed.reset(seed=0)
        _, reward, _, _, info = mixed.step(mixed.action_space.sample())
        assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-5)
        assert info["reward_terms"]["clip/clip"] == pytest.approx(
            0.5 * reference.score_frames(mixed.render()[None])[0].item(), abs=1e-5
        )
    finally:
        mixed.close()


def test_per_step_without_frames_says_how_to_fix(tiny_clip: str) -> None:
    env = gym.make("agentgym/Reach-v0", reward=f"clip:{_spec(tiny_clip, 0.5)}")
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="render_mode='rgb_array'"):
        env.step(env.action_space.sample())
    env.close()


class RolloutWithValid(NamedTuple):
    frames: torch.Tensor
    valid: torch.Tensor


def test_relabel_skips_autoreset_steps(tiny_clip: str) -> None:
    frames = torch.from_numpy(_frames(12, seed=4).reshape(4, 3, 48, 48, 3))
    valid = torch.ones(4, 3, dtype=torch.bool)
    valid[1, 0] = valid[3, 2] = False
    model = reward_from_spec(_spec(tiny_clip, 0.5, cache_size=0))
    out = model.relabel(RolloutWithValid(frames, valid))["reward"]
    assert model.cache_stats.misses == 10  # the two autoreset frames were never encoded
    assert out[1, 0] == 0 and out[3, 2] == 0
    full = reward_from_spec(_spec(tiny_clip, 0.5, cache_size=0)).relabel(FakeFreeRollout(frames))[
        "reward"
    ]
    torch.testing.assert_close(out[valid], full[valid], atol=1e-5, rtol=0)


def test_weighted_mix_relabels_a_whole_rollout(tiny_clip: str, tmp_path) -> None:
    """0.5*clip + 1*env + 2*sparse + 1*program over a [T, N] rollout equals its parts
    computed by hand (the program reads the rollout's reward_state)."""
    from agentgym.learners.rollout import Rollout
    from agentgym.rewards import RolloutWeightedSum

    program = tmp_path / "speed.py"
    program.write_text(
        "def compute_reward(state, action):\n"
        "    r = -state['speed'].abs()\n"
        "    return r, {'speed': r}\n"
    )
    t, n = 6, 2
    rng = torch.Generator().manual_seed(0)
    frames = torch.from_numpy(_frames(t * n, seed=8).reshape(t, n, 48, 48, 3))
    env_rewards = torch.randn(t, n, generator=rng)
    success = torch.rand(t, n, generator=rng) > 0.5
    speed = torch.randn(t, n, generator=rng)
    zeros = torch.zeros(t, n)
    rollout = Rollout(
        obs=torch.zeros(t, n, 4),
        actions=torch.zeros(t, n, 2, dtype=torch.float32),
        logprobs=zeros,
        values=zeros,
        rewards=zeros,
        terminations=zeros.bool(),
        truncations=zeros.bool(),
        env_rewards=env_rewards,
        success=success,
        frames=frames,
        reward_state={"speed": speed},
        valid=torch.ones(t, n, dtype=torch.bool),
    )
    mix = parse_reward_spec(
        f"0.5*clip:{_spec(tiny_clip, 0.5)} + 1.0*env + 2*sparse + 1.0*{program}"
    )
    assert isinstance(mix, RolloutWeightedSum)
    assert mix.needs_frames
    out = mix.relabel(rollout)
    clip = reward_from_spec(_spec(tiny_clip, 0.5, cache_size=0)).relabel(FakeFreeRollout(frames))[
        "reward"
    ]
    want = 0.5 * clip + env_rewards + 2 * success.float() - speed.abs()
    torch.testing.assert_close(out["reward"], want, atol=1e-5, rtol=0)
    torch.testing.assert_close(out["clip/clip"], 0.5 * clip, atol=1e-5, rtol=0)
    torch.testing.assert_close(out["speed/speed"], -speed.abs())
    components = sum(v for k, v in out.items() if k != "reward")
    torch.testing.assert_close(components, out["reward"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("side", ["left", "right"])
def test_squash_sees_the_frame_edges_that_centre_crop_cuts(tiny_clip: str, side: str) -> None:
    """VLM-RM squashes the whole frame to the model's square input; a centre crop of a
    400x600 frame (CartPole's, MountainCar's) never sees its left and right 100 pixels.
    A mark there changes the embedding under squash (the default) and not under
    center-crop."""
    frame = np.full((1, 400, 600, 3), 255, np.uint8)
    frame[0, 300:, :, :] = 90  # a ground line, so the frame is not flat
    marked = frame.copy()
    cols = slice(0, 60) if side == "left" else slice(540, 600)
    marked[0, 150:250, cols] = [20, 20, 200]  # a flag at the edge
    squash = reward_from_spec(f"model={tiny_clip};goal=a flag;alpha=0;cache_size=0")
    crop = reward_from_spec(
        f"model={tiny_clip};goal=a flag;alpha=0;cache_size=0;resize=center-crop"
    )
    assert squash.config.resize == "squash" and crop.config.resize == "center-crop"
    moved = (squash.embed_frames(marked) - squash.embed_frames(frame)).norm().item()
    unmoved = (crop.embed_frames(marked) - crop.embed_frames(frame)).norm().item()
    assert moved > 1e-3
    assert unmoved < 1e-6
    # Squash keeps the whole frame: the model's input is the frame resized, not cut.
    pixels = squash.encoder.preprocess.for_mode("squash")(torch.from_numpy(frame))
    assert pixels.shape == (1, 3, 32, 32)


def test_resize_mode_typo_is_named(tiny_clip: str) -> None:
    with pytest.raises(ValueError, match=r"ClipRewardConfig.resize: .*Did you mean 'squash'"):
        parse_clip_args(f"model={tiny_clip};goal=a;alpha=0;resize=sqash")
