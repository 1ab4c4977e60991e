"""Pulse: self-hosted, privacy-friendly web and product analytics."""

__version__ = "0.1.0"
