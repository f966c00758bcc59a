"""Simulated platform: a Kubernetes API server and a metrics API over real HTTP, scenarios as data."""
