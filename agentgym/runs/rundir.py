"""``RunDir``: one run's folder and the files every command writes into it.

    runs/<YYYYmmdd-HHMMSS>-<command>-<env short name>/
        config.yaml          the resolved config (loads back equal)
        manifest.json        versions, seeds, device, argv, git revision, machine
        logs/metrics.jsonl   one row per log step (agentgym.runs.metrics)
        logs/tb/             TensorBoard
        checkpoints/         latest.pt (or latest.zip for SB3) and periodic ones
        videos/              eval_<step>.mp4
        members/<i>-<name>/  population runs: one complete run folder per member
        report.html          agentgym.runs.report.build_report

A folder that already holds a run is never overwritten silently: ``create`` refuses it
unless ``overwrite=True``, and never deletes a folder that is not a run folder.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from agentgym.learners.logger import read_metrics
from agentgym.runs.config import dump_yaml, load_yaml

CONFIG = "config.yaml"
MANIFEST = "manifest.json"
METRICS = "logs/metrics.jsonl"
REPORT = "report.html"


class RunExistsError(FileExistsError):
    """The folder asked for already holds a run (or other files)."""


class RunNotFoundError(FileNotFoundError):
    """A path that is not a run folder (it has no config.yaml)."""


def env_short_name(env_id: str) -> str:
    """``agentgym/Reach-v0`` -> ``Reach``; ``Meta-World/MT1`` -> ``MT1``."""
    name = env_id.split("/")[-1]
    name = re.sub(r"-v\d+$", "", name)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "env"


def default_run_name(command: str, env_id: str, when: dt.datetime | None = None) -> str:
    when = when or dt.datetime.now()
    return f"{when:%Y%m%d-%H%M%S}-{command}-{env_short_name(env_id)}"


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    diffs = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            diffs += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            diffs.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return diffs


class RunDir:
    """A run folder. Make one with ``RunDir.create``; open an existing one with ``RunDir.open``."""

    sections_added_here: ClassVar[set[str]] = set()
    """Report section targets a command of this process added (trusted for its reports)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- making and opening -------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        command: str,
        env_id: str,
        config: Mapping[str, Any],
        out: str | Path | None = None,
        root: str | Path = "runs",
        overwrite: bool = False,
    ) -> RunDir:
        """Make the folder and write ``config.yaml``.

        Without ``out`` the folder is ``root/<date>-<command>-<env>`` (suffixed ``-2``,
        ``-3``... when two runs start in the same second).
        """
        if out is None:
            base = Path(root) / default_run_name(command, env_id)
            path, n = base, 1
            while path.exists():
                n += 1
                path = base.with_name(f"{base.name}-{n}")
        else:
            path = Path(out)
            if path.exists() and not path.is_dir():
                raise RunExistsError(
                    f"--out {str(path)!r} is a file, expected a folder for the run"
                )
            if path.is_dir() and any(path.iterdir()):
                cls._refuse_or_clear(path, config, overwrite)
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        dump_yaml(config, run.config_path)
        return run

    @staticmethod
    def _refuse_or_clear(path: Path, config: Mapping[str, Any], overwrite: bool) -> None:
        is_run = (path / CONFIG).is_file() or (path / MANIFEST).is_file()
        if not is_run:
            raise RunExistsError(
                f"--out {str(path)!r} exists and is not empty, and it is not a run folder; "
                "expected a new or empty folder (nothing was deleted)"
            )
        if overwrite:
            shutil.rmtree(path)
            return
        old = load_yaml(path / CONFIG) if (path / CONFIG).is_file() else {}
        diffs = _differences(old, dict(config))
        if diffs:
            raise RunExistsError(
                f"--out {str(path)!r} already holds a different run ({'; '.join(diffs[:6])}); "
                "choose another --out, or pass --overwrite to replace it"
            )
        raise RunExistsError(
            f"--out {str(path)!r} already holds this run; continue it with --resume {path}, "
            "or pass --overwrite to start it again"
        )

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        run = cls(path)
        if not run.config_path.is_file():
            hint = ""
            if run.path.is_dir():
                inner = sorted(p.parent.name for p in run.path.glob(f"*/{CONFIG}"))
                if inner:
                    hint = f" (it holds runs: {', '.join(inner[-5:])})"
            raise RunNotFoundError(
                f"{str(run.path)!r} is not a run folder: expected {CONFIG} inside it{hint}"
            )
        return run

    # -- paths --------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def videos_dir(self) -> Path:
        return self.path / "videos"

    @property
    def members_dir(self) -> Path:
        return self.path / "members"

    # -- contents -----------------------------------------------------------------
    def read_config(self) -> dict[str, Any]:
        return load_yaml(self.config_path)

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(dict(manifest), indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.manifest_path)  # atomic: a killed run never leaves half a manifest

    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.is_file():
            return {}
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def update_manifest(self, **fields: Any) -> None:
        manifest = self.read_manifest()
        manifest.update(fields)
        self.write_manifest(manifest)

    def add_report_section(self, target: str) -> None:
        """Ask the report to include a section builder given as ``"module:function"``.

        This is how a command adds its own sections (a synthesis report, VLM reward
        diagnostics) without editing the report core; ``agentgym report`` finds them in
        the manifest when it rebuilds the page, and imports only agentgym's own, the ones
        added in this process, or those in ``$AGENTGYM_REPORT_SECTIONS``
        (``agentgym.runs.report.trusted_section``).
        """
        RunDir.sections_added_here.add(target)
        manifest = self.read_manifest()
        targets = list(manifest.get("report_sections", []))
        if target not in targets:
            targets.append(target)
        manifest["report_sections"] = targets
        self.write_manifest(manifest)

    def metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.metrics_path)

    def members(self) -> list[RunDir]:
        """The member runs of a population run, in order."""
        if not self.members_dir.is_dir():
            return []
        return [RunDir(p) for p in sorted(self.members_dir.iterdir()) if (p / CONFIG).is_file()]

    def relative(self, path: str | Path) -> str:
        return Path(path).resolve().relative_to(self.path.resolve()).as_posix()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"
