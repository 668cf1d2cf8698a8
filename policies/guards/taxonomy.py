"""The guard models' category sets, shared by the guards and the simulated guard engine."""

from __future__ import annotations

from collections.abc import Mapping

# Llama Guard 3's categories, named as its prompt names them (the MLCommons
# hazard taxonomy, plus S14 for tool-using models).
LLAMA_GUARD_CATEGORIES: Mapping[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex Crimes",
    "S4": "Child Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}

# DuoGuard's categories, in the order of its outputs.
DUOGUARD_CATEGORIES: tuple[str, ...] = (
    "violent crimes",
    "non-violent crimes",
    "sex-related crimes",
    "child sexual exploitation",
    "specialized advice",
    "privacy",
    "intellectual property",
    "indiscriminate weapons",
    "hate",
    "suicide and self-harm",
    "sexual content",
    "jailbreak prompts",
)
