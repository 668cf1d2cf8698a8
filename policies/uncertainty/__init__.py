"""Uncertainty policies (issue #5): how sure is the model of its answer?

`signals` computes the confidence signals (token-logprob features with a
shipped logistic calibration, and self-consistency over k samples);
`evaluate` measures them against the real SmolLM2 and writes the
calibration. See docs/uncertainty.md.
"""
