"""Semgate gateway: the OpenAI-compatible service, its config, engines and CLI."""
