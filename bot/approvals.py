"""Approval requests: state machine, who may approve what, four-eyes, expiry, audit."""
