"""The open_clip backend, with a tiny random-weights open_clip model saved to a folder.

open_clip imports torchvision at import time. torch 2.13.0's torchvision is 0.28.0, but
PyPI's Linux x86-64 wheel of it is a CUDA build (its ops library needs libc10_cuda.so and
libtorch_cuda.so, absent from the CPU torch 2.13.0 wheel of the main venv: "operator
torchvision::nms does not exist"), and the 0.28.0+cpu build is only on PyTorch's own index,
which these machines cannot reach. So the three tests that need open_clip are skipped
there and run where ``agentgym[openclip]`` imports (torch 2.13.0+cpu with
torchvision 0.28.0+cpu, or a CUDA torch with PyPI's torchvision). The error a user gets
without a working open_clip is tested in the main venv.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from agentgym.reward_designers.clip import reward_from_spec
from agentgym.reward_designers.clip.backends import ClipLoadError, OpenClipEncoder, resolve_backend

TINY = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def _open_clip_or_skip():
    try:
        import open_clip
    except Exception as err:  # ImportError, or torchvision's operator registration failing
        pytest.skip(f"open_clip does not import here: {type(err).__name__}: {err}")
    return open_clip


def test_backend_resolution(tmp_path) -> None:
    assert resolve_backend("open_clip:ViT-B-32/laion2b_s34b_b79k") == (
        "open_clip",
        "ViT-B-32/laion2b_s34b_b79k",
    )
    assert resolve_backend("hf:openai/clip-vit-base-patch32") == (
        "transformers",
        "openai/clip-vit-base-patch32",
    )
    (tmp_path / "open_clip_config.json").write_text("{}")
    assert resolve_backend(str(tmp_path)) == ("open_clip", f"local-dir:{tmp_path}")
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("x", "openclip")


def test_missing_open_clip_names_the_fix() -> None:
    try:
        import open_clip  # noqa: F401
    except Exception:
        with pytest.raises(ClipLoadError, match="open-clip-torch") as info:
            OpenClipEncoder("ViT-B-32/openai", torch.device("cpu"))
        assert "torchvision" in str(info.value) and "model=PATH" in str(info.value)
    else:
        pytest.skip("open_clip imports here; the missing-backend error cannot be shown")


@pytest.fixture(scope="module")
def tiny_open_clip(tmp_path_factory):
    """A local-dir: folder (open_clip_config.json + open_clip_model.safetensors) and a
    checkpoint file of the same random weights."""
    open_clip = _open_clip_or_skip()
    from safetensors.torch import save_file

    root = tmp_path_factory.mktemp("tiny_open_clip")
    (root / "open_clip_config.json").write_text(
        json.dumps(
            {
                "model_cfg": TINY,
                "preprocess_cfg": {
                    "mean": [0.48145466, 0.4578275, 0.40821073],
                    "std": [0.26862954, 0.26130258, 0.27577711],
                },
            }
        )
    )
    torch.manual_seed(0)
    model = open_clip.model.CLIP(**TINY)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(root / "open_clip_model.safetensors"))
    checkpoint = root / "tiny.pt"
    torch.save(state, checkpoint)
    cfg_dir = root / "configs"
    cfg_dir.mkdir()
    (cfg_dir / "TinyCLIP-test.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(cfg_dir)
    return root, checkpoint, model.eval()


def test_open_clip_local_dir_and_checkpoint_agree(tiny_open_clip) -> None:
    root, checkpoint, reference = tiny_open_clip
    frames = np.random.default_rng(0).integers(0, 256, (5, 40, 48, 3), dtype=np.uint8)
    spec = "goal=a pole upright;baseline=a pole;alpha=0.5;cache_size=0"
    from_dir = reward_from_spec(f"model={root};{spec}")
    from_file = reward_from_spec(f"model=open_clip:TinyCLIP-test@{checkpoint};{spec}")
    assert isinstance(from_dir.encoder, OpenClipEncoder)
    r_dir, r_file = from_dir.score_frames(frames), from_file.score_frames(frames)
    torch.testing.assert_close(r_dir, r_file, atol=1e-5, rtol=0)
    # Embeddings equal open_clip's own encode_image on the same (squashed) pixels.
    pixels = from_dir.encoder.preprocess.for_mode("squash")(torch.from_numpy(frames))
    with torch.no_grad():
        want = reference.encode_image(pixels, normalize=True)
    torch.testing.assert_close(from_dir.embed_frames(frames), want, atol=1e-5, rtol=0)


def test_open_clip_preprocessing_matches_its_transform(tiny_open_clip) -> None:
    from PIL import Image

    open_clip = _open_clip_or_skip()
    root, _, _ = tiny_open_clip
    _, _, transform = open_clip.create_model_and_transforms(f"local-dir:{root}")
    frames = np.random.default_rng(1).integers(0, 256, (2, 60, 80, 3), dtype=np.uint8)
    frames[:, 10:50, 20:60] = [30, 200, 30]
    want = torch.stack([transform(Image.fromarray(f)) for f in frames])
    got = reward_from_spec(f"model={root};goal=a;alpha=0").encoder.preprocess(
        torch.from_numpy(frames)
    )
    assert got.shape == want.shape
    assert (got - want).abs().mean().item() < 0.05


def test_unknown_architecture_suggests(tiny_open_clip) -> None:
    with pytest.raises(ClipLoadError, match="Did you mean 'ViT-B-32'"):
        OpenClipEncoder("ViT-B-3/openai", torch.device("cpu"))
