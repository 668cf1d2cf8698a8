"""A simulated vLLM engine: an OpenAI-compatible server with a GPU cost model.

See docs/sim-engine.md for what is modelled, the profiles and their sources.
"""

from .engine import EngineStats, SimEngine, SimEngineError
from .guard import BEHAVIOURS, DEFAULT_TRIGGERS, DUOGUARD_CATEGORIES, GuardEmulation
from .profiles import DEFAULT_PROFILE, PROFILES, ProfileError, SimProfile, make_profile
from .request import SamplingParams, SimRequest, ToolCallSpec
from .server import SimServer, create_sim_app, run_sim_server

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_TRIGGERS",
    "DUOGUARD_CATEGORIES",
    "GuardEmulation",
    "DEFAULT_PROFILE",
    "PROFILES",
    "EngineStats",
    "ProfileError",
    "SamplingParams",
    "SimEngine",
    "SimEngineError",
    "SimProfile",
    "SimRequest",
    "SimServer",
    "ToolCallSpec",
    "create_sim_app",
    "make_profile",
    "run_sim_server",
]
