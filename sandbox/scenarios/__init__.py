"""Scenario builders: turn a scenario name and a variant seed into a tenant database."""

from sandbox.scenarios.builder import SCENARIOS, build_scenario

__all__ = ["SCENARIOS", "build_scenario"]
