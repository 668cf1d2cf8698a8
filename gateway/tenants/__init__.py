"""API keys, tenants, their limits and budgets, and the admin API."""
