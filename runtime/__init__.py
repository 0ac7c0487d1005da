"""The chatbot's side of the system (../shared/spec/runtime.md): enforce and track live.

The Lambda imports this package. It uses `enforcement/` (the one `decide`) and boto3,
and nothing of Streamlit, DuckDB or the dashboard.
"""

from runtime.inputs import InputError
from runtime.service import (
    ProfitEnforcementService,
    ProfitRuntime,
    RecordOutcome,
    RequestOutcome,
    UserCostTracker,
)
from runtime.settings import Settings
from runtime.store import StoreUnavailable

__all__ = ["InputError", "ProfitEnforcementService", "ProfitRuntime", "RecordOutcome",
           "RequestOutcome", "Settings", "StoreUnavailable", "UserCostTracker"]
