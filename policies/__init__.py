"""Inline guard and uncertainty policies (issue #5)."""
