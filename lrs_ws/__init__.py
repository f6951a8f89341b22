"""lrs-ws: a self-hosted, wire-compatible Learning Records Service (Learner web services)."""

__version__ = "0.1.0"
