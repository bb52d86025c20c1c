"""Shared fixtures and helpers for the test suite (real parts, no mocks)."""
