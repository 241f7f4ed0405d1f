"""Test helpers shared across test folders (real servers on loopback, tiny models)."""
