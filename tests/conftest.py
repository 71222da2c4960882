"""Shared fixtures. Where HTTP is involved, tests run against a real loopback server."""
