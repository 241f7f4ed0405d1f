"""Image and text encoders behind the CLIP reward: transformers and open_clip.

An encoder turns prompts into unit text embeddings once, and batches of uint8 frames
``[B, H, W, 3]`` into unit image embeddings ``[B, D]`` float32. Frames are preprocessed
in torch on the encoder's device, so a rollout of thousands of frames never goes through
PIL one image at a time, in one of two ways (``RESIZE_MODES``):

- ``squash`` (the default, VLM-RM's way): the whole frame is resized to the model's square
  input, aspect ratio not kept, so nothing of the frame is cut away;
- ``center-crop`` (the model's own image processor): the short side is resized to the
  input size and the centre is cropped, so a 400x600 frame loses its left and right 100
  pixels (MountainCar's flag, a cart far from the centre).

Models are loaded once per process per (model, backend, device): many envs made with
the same ``clip:`` spec share one copy of the weights.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

log = logging.getLogger(__name__)

BACKENDS = ("transformers", "open_clip")
OPEN_CLIP_PREFIX = "open_clip:"
HF_PREFIX = "hf:"
RESIZE_MODES = ("squash", "center-crop")


class ClipLoadError(ValueError):
    """A CLIP model that cannot be found or loaded; the message says what to do."""


@dataclass(frozen=True)
class FramePreprocess:
    """How a model wants its pixels: the fields of a Hugging Face image processor."""

    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    shortest_edge: int | None = None
    """Resize so the shorter side has this length (CLIP); None when resizing to a size."""
    resize_hw: tuple[int, int] | None = None
    """Resize to exactly (height, width) (SigLIP); None when resizing by the shorter side."""
    crop_hw: tuple[int, int] | None = None
    """Centre crop to (height, width) after resizing, or None."""
    interpolation: str = "bicubic"

    def squashed(self) -> FramePreprocess:
        """The same normalisation, with the whole frame resized to the model's square input
        (VLM-RM's preprocessing: no crop, aspect ratio not kept)."""
        if self.crop_hw is not None:
            size = self.crop_hw
        elif self.resize_hw is not None:
            size = self.resize_hw
        elif self.shortest_edge is not None:
            size = (self.shortest_edge, self.shortest_edge)
        else:
            return self
        return FramePreprocess(
            self.image_mean, self.image_std, resize_hw=size, interpolation=self.interpolation
        )

    def for_mode(self, resize: str) -> FramePreprocess:
        """This preprocessing under ``resize`` (one of RESIZE_MODES): ``center-crop`` is the
        model's own, ``squash`` its squashed form."""
        if resize == "squash":
            return self.squashed()
        if resize == "center-crop":
            return self
        from agentgym.registry import suggest

        raise ValueError(
            f"resize must be one of {list(RESIZE_MODES)}, got {resize!r}.{suggest(resize, RESIZE_MODES)}"
        )

    def __call__(self, frames: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """uint8 [B, H, W, 3] -> normalised float [B, 3, h, w] on the frames' device."""
        if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(
                f"frames must be uint8 [B, H, W, 3], got {frames.dtype} {list(frames.shape)}"
            )
        x = frames.permute(0, 3, 1, 2).to(torch.float32) / 255.0
        h, w = x.shape[-2:]
        size: tuple[int, int] | None = None
        if self.resize_hw is not None:
            size = self.resize_hw
        elif self.shortest_edge is not None:
            scale = self.shortest_edge / min(h, w)
            # Hugging Face's get_resize_output_image_size: the short side exactly, the
            # long side scaled and truncated.
            size = (
                (self.shortest_edge, int(w * scale))
                if h <= w
                else (int(h * scale), self.shortest_edge)
            )
        if size is not None and size != (h, w):
            x = torch.nn.functional.interpolate(
                x, size=size, mode=self.interpolation, antialias=True, align_corners=False
            ).clamp_(0.0, 1.0)
        if self.crop_hw is not None:
            ch, cw = self.crop_hw
            h, w = x.shape[-2:]
            top, left = max((h - ch) // 2, 0), max((w - cw) // 2, 0)
            x = x[..., top : top + ch, left : left + cw]
        mean = torch.tensor(self.image_mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.image_std, device=x.device).view(1, 3, 1, 1)
        return ((x - mean) / std).to(dtype)


class Encoder(Protocol):
    """What the CLIP reward needs from a vision-language model."""

    name: str
    device: torch.device
    dim: int

    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """Unit-norm float32 embeddings [P, D] of the prompts."""
        ...

    def encode_frames(self, frames: torch.Tensor, resize: str = "squash") -> torch.Tensor:
        """Unit-norm float32 embeddings [B, D] of uint8 frames [B, H, W, 3], resized the
        ``resize`` way (one of RESIZE_MODES)."""
        ...


def pick_device(device: str | torch.device | None) -> torch.device:
    """The requested device, or CUDA when present, else CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _unit(x: torch.Tensor) -> torch.Tensor:
    x = x.to(torch.float32)
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def _features(out: object) -> torch.Tensor:
    # transformers 5 returns a ModelOutput whose pooler_output holds the projected
    # embedding; transformers 4 returned the tensor itself.
    return out if isinstance(out, torch.Tensor) else out.pooler_output  # type: ignore[attr-defined]


class TransformersEncoder:
    """CLIP, SigLIP and other dual encoders loaded with transformers' ``from_pretrained``."""

    def __init__(self, path: str, device: torch.device) -> None:
        from agentgym.hub import keep_hub_offline

        keep_hub_offline()
        from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

        self.name = path
        self.device = device
        # local_files_only: a local folder, or a name already in the Hugging Face cache;
        # agentgym never downloads weights at run time.
        try:
            self.model = AutoModel.from_pretrained(path, local_files_only=True)
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        except OSError as err:
            raise ClipLoadError(
                f"model={path!r}: not a local transformers model folder (config.json, weights, "
                "tokenizer, preprocessor_config.json) nor a name in the Hugging Face cache; "
                "see docs/vlm-rewards.md for putting weights offline"
            ) from err
        for method in ("get_text_features", "get_image_features"):
            if not hasattr(self.model, method):
                raise ClipLoadError(
                    f"model={path!r}: {type(self.model).__name__} has no {method}; "
                    "expected a dual encoder such as CLIPModel or SiglipModel"
                )
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        self.model.to(device=device, dtype=self.dtype).eval()
        # The model's own preprocessing (centre crop); encode_frames squashes by default.
        self.preprocess = preprocess_from_processor(processor.to_dict())
        # SigLIP was trained on text padded to the full length; CLIP pools at the EOS token.
        self._pad = "max_length" if "siglip" in type(self.model).__name__.lower() else True
        self.dim = int(self.encode_text(["a"]).shape[-1])

    @torch.inference_mode()
    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        enc = self.tokenizer(list(prompts), padding=self._pad, truncation=True, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        if self._pad == "max_length":
            enc.pop("attention_mask", None)  # SigLIP's text tower takes no mask
        return _unit(_features(self.model.get_text_features(**enc)))

    @torch.inference_mode()
    def encode_frames(self, frames: torch.Tensor, resize: str = "squash") -> torch.Tensor:
        pixels = self.preprocess.for_mode(resize)(frames.to(self.device), self.dtype)
        return _unit(_features(self.model.get_image_features(pixel_values=pixels)))


def preprocess_from_processor(cfg: dict) -> FramePreprocess:
    """Read a Hugging Face image processor's config into a FramePreprocess."""
    size = cfg.get("size") or {}
    crop = cfg.get("crop_size") or {}
    shortest = resize_hw = crop_hw = None
    if cfg.get("do_resize", True):
        if isinstance(size, int):
            shortest = size
        elif size.get("shortest_edge"):
            shortest = int(size["shortest_edge"])
        elif size.get("height") and size.get("width"):
            resize_hw = (int(size["height"]), int(size["width"]))
    if cfg.get("do_center_crop", False) and crop:
        crop_hw = (
            (int(crop["height"]), int(crop["width"])) if isinstance(crop, dict) else (crop, crop)
        )
    resample = int(cfg.get("resample", 3) or 3)
    normalize = cfg.get("do_normalize", True)
    return FramePreprocess(
        image_mean=tuple(cfg.get("image_mean", (0.0,) * 3)) if normalize else (0.0, 0.0, 0.0),
        image_std=tuple(cfg.get("image_std", (1.0,) * 3)) if normalize else (1.0, 1.0, 1.0),
        shortest_edge=shortest,
        resize_hw=resize_hw,
        crop_hw=crop_hw,
        # PIL's codes: 2 bilinear, 3 bicubic.
        interpolation="bilinear" if resample == 2 else "bicubic",
    )


class OpenClipEncoder:
    """Any open_clip architecture with weights from a file, a local folder or its cache.

    ``name`` forms (after the ``open_clip:`` prefix):
    ``ARCH/TAG`` (a pretrained tag, found in open_clip's cache: ``ViT-B-32/laion2b_s34b_b79k``),
    ``ARCH@FILE`` (a checkpoint file), ``hf-hub:ORG/REPO`` or ``local-dir:PATH``.
    """

    def __init__(self, name: str, device: torch.device) -> None:
        from agentgym.hub import keep_hub_offline

        keep_hub_offline()
        try:
            import open_clip
        except Exception as err:  # ImportError, or torchvision failing beside this torch
            raise ClipLoadError(
                f"model='{OPEN_CLIP_PREFIX}{name}': the open_clip backend needs open-clip-torch and "
                f"a torchvision that imports beside this torch ({type(err).__name__}: {err}). "
                "Fix: pip install 'agentgym[openclip]' (torch 2.13.0 pairs with torchvision "
                "0.28.0; with a CPU torch, the 0.28.0+cpu build from PyTorch's CPU wheel index, "
                "PyPI's Linux wheel being a CUDA build), or use a transformers CLIP folder "
                "(model=PATH) instead; see docs/vlm-rewards.md"
            ) from err
        self.name = name
        self.device = device
        arch, pretrained = name, None
        if name.startswith(("hf-hub:", "local-dir:")):
            arch = name
        elif "@" in name:
            arch, pretrained = name.split("@", 1)
            if not Path(pretrained).expanduser().is_file():
                raise ClipLoadError(
                    f"model='{OPEN_CLIP_PREFIX}{name}': no checkpoint file {pretrained!r}"
                )
            pretrained = str(Path(pretrained).expanduser())
        elif "/" in name:
            arch, pretrained = name.split("/", 1)
        known = open_clip.list_models()
        if not arch.startswith(("hf-hub:", "local-dir:")) and arch not in known:
            from agentgym.registry import suggest

            raise ClipLoadError(
                f"model='{OPEN_CLIP_PREFIX}{name}': unknown open_clip architecture {arch!r}."
                f"{suggest(arch, known)} See open_clip.list_models()"
            )
        try:
            model, _, _ = open_clip.create_model_and_transforms(
                arch, pretrained=pretrained, device=device
            )
        except (RuntimeError, OSError, ValueError) as err:
            raise ClipLoadError(
                f"model='{OPEN_CLIP_PREFIX}{name}': open_clip could not load it ({err}); "
                "see docs/vlm-rewards.md for putting weights offline"
            ) from err
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        self.model = model.to(device=device, dtype=self.dtype).eval()
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.preprocess = _open_clip_preprocess(open_clip, model)
        self.dim = int(self.encode_text(["a"]).shape[-1])

    @torch.inference_mode()
    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(list(prompts)).to(self.device)
        return _unit(self.model.encode_text(tokens))

    @torch.inference_mode()
    def encode_frames(self, frames: torch.Tensor, resize: str = "squash") -> torch.Tensor:
        pixels = self.preprocess.for_mode(resize)(frames.to(self.device), self.dtype)
        return _unit(self.model.encode_image(pixels))


def _open_clip_preprocess(open_clip, model) -> FramePreprocess:
    cfg = {}
    if hasattr(open_clip, "get_model_preprocess_cfg"):
        cfg = dict(open_clip.get_model_preprocess_cfg(model))
    size = cfg.get("size", getattr(model.visual, "image_size", 224))
    hw = (size, size) if isinstance(size, int) else tuple(size)
    mean = (
        cfg.get("mean")
        or getattr(model.visual, "image_mean", None)
        or open_clip.OPENAI_DATASET_MEAN
    )
    std = cfg.get("std") or getattr(model.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
    interpolation = "bilinear" if cfg.get("interpolation") == "bilinear" else "bicubic"
    if cfg.get("resize_mode", "shortest") == "squash":
        return FramePreprocess(tuple(mean), tuple(std), resize_hw=hw, interpolation=interpolation)
    return FramePreprocess(
        tuple(mean), tuple(std), shortest_edge=min(hw), crop_hw=hw, interpolation=interpolation
    )


_LOADED: dict[tuple[str, str, str], Encoder] = {}
_LOCK = threading.Lock()


def resolve_backend(model: str, backend: str = "auto") -> tuple[str, str]:
    """(backend, name) for a ``model=`` value: the ``open_clip:``/``hf:`` prefix, an
    ``open_clip_config.json`` in a folder, or transformers by default."""
    if model.startswith(OPEN_CLIP_PREFIX):
        return "open_clip", model[len(OPEN_CLIP_PREFIX) :]
    if model.startswith(HF_PREFIX):
        return "transformers", model[len(HF_PREFIX) :]
    if backend not in ("auto", *BACKENDS):
        from agentgym.registry import suggest

        raise ValueError(
            f"backend must be one of {['auto', *BACKENDS]}, got {backend!r}.{suggest(backend, BACKENDS)}"
        )
    if backend != "auto":
        return backend, model
    folder = Path(model).expanduser()
    if (folder / "open_clip_config.json").is_file() and not (folder / "config.json").is_file():
        return "open_clip", f"local-dir:{folder}"
    return "transformers", str(folder) if folder.exists() else model


def load_encoder(
    model: str, backend: str = "auto", device: str | torch.device | None = None
) -> Encoder:
    """The encoder for ``model``, loaded once per process per (model, backend, device)."""
    backend, name = resolve_backend(model, backend)
    dev = pick_device(device)
    key = (backend, name, str(dev))
    with _LOCK:
        if key not in _LOADED:
            log.info("loading %s model %s on %s", backend, name, dev)
            cls = OpenClipEncoder if backend == "open_clip" else TransformersEncoder
            _LOADED[key] = cls(name, dev)
        return _LOADED[key]
