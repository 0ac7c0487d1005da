"""The enforcement rules (../shared/spec/rules.md): policy, one decision, and the replay.

A pure core: no Streamlit, DuckDB or AWS import anywhere in this package (except the
command line in `__main__`, which reads history lazily through `queries.history`), so
the chatbot runtime can import it as is.
"""

from enforcement.decide import LEVELS, REASONS, Decision, Level, State, decide, level_of
from enforcement.policy import Policy, PolicyError, diff, load_policy, save_policy

__all__ = [
    "LEVELS",
    "REASONS",
    "Decision",
    "Level",
    "Policy",
    "PolicyError",
    "State",
    "decide",
    "diff",
    "level_of",
    "load_policy",
    "save_policy",
]
