"""Safety guards: upstream LLM guards, served classifiers, the embedded CPU guard."""

from policies.guards.base import Guard, GuardError, Role, Verdict

__all__ = ["Guard", "GuardError", "Role", "Verdict"]
