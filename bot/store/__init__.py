"""The bot's own state: approvals and audit (PostgreSQL) and coordination (Redis), each with an
in-memory fallback for single-replica runs. Import from the submodules, e.g. ``bot.store.coordination``."""
