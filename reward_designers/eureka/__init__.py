"""Eureka (Ma et al. 2023): K samples per iteration, reward reflection in between."""

from __future__ import annotations

from agentgym.reward_designers.eureka.designer import EurekaDesigner

__all__ = ["EurekaDesigner"]
