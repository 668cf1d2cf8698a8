"""Semantic-variable dataflow serving (issue #3)."""
