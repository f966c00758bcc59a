"""Inspecting a pasted JWT without verifying it: parts, header alg, expiry. Never logs the token."""
