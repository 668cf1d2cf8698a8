"""Model and replica routing (issue #4). Today: replica choice for the gateway core."""
