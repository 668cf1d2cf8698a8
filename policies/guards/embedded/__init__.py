"""The embedded CPU safety guard: a small multilingual classifier in pure Python.

    from policies.guards.embedded import EmbeddedGuard

    guard = EmbeddedGuard.load()                 # the committed artifact
    v = guard.classify("How do I kill a Python process?")
    v.unsafe, v.score, v.categories              # False, 0.1..., {"sexual": ..., "hate": ..., ...}

One logistic head per moderation category (sexual, hate, violence,
harassment, self-harm, sexual/minors, hate/threatening, violence/graphic,
plus illicit) over word and character n-grams; the unsafe score is their
noisy-OR, mapped so that the trained threshold is 0.5. English, French,
Spanish and German; text in other scripts scores near the prior, never
"all unsafe". A few hundred microseconds per prompt, no I/O per call,
thread-safe. `EmbeddedGuard` also implements `policies.guards.base.Guard`.
Trained by `python -m policies.guards.embedded.train`; see
docs/embedded-guard.md for the data, the splits and the measured quality.
"""

from policies.guards.embedded.model import DEFAULT_ARTIFACT, EmbeddedGuard, GuardVerdict

__all__ = ["DEFAULT_ARTIFACT", "EmbeddedGuard", "GuardVerdict"]
