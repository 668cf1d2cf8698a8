"""The robustness suite: Semgate under misbehaving upstreams, slow and abusive
clients, a store that stops and restarts, and a corpus of bad input.

Each module owns one kind of adversary; together they run in `./test.sh` in
under ~3 minutes (`pytest -m robustness` runs them alone).
"""
