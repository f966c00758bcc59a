"""Remediations: one module per action (params, risk, preview, execute, verify)."""
