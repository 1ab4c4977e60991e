"""Platform administration: projects, API keys and per-project module settings."""
