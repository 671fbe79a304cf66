"""Scenario builders: turn a scenario name and a variant seed into a tenant database."""

from sandbox.scenarios.builder import SCENARIO_TIMEZONES, SCENARIOS, build_scenario

__all__ = ["SCENARIOS", "SCENARIO_TIMEZONES", "build_scenario"]
