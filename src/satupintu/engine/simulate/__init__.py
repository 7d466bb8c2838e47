"""Discrete-event simulation of a contact center driven by the real router."""

from .des import ABANDONED, ANSWERED, RunResult, generate_contacts, run_once
from .distributions import Dist, ScenarioError
from .models import mmc_scenario
from .quick import QuickResult, quick_simulate
from .scenario import (
    SL_FORMULAS,
    AgentSpec,
    QueueSpec,
    Replay,
    Scenario,
    load_scenario,
    scenario_from_dict,
)
from .stats import METRICS, Summary, Table, ci95, day_totals, interval_table, replicate

__all__ = [
    "ABANDONED",
    "ANSWERED",
    "METRICS",
    "SL_FORMULAS",
    "AgentSpec",
    "Dist",
    "QueueSpec",
    "QuickResult",
    "Replay",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Summary",
    "Table",
    "ci95",
    "day_totals",
    "generate_contacts",
    "interval_table",
    "load_scenario",
    "mmc_scenario",
    "quick_simulate",
    "replicate",
    "run_once",
    "scenario_from_dict",
]
