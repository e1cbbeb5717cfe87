"""End-to-end tests of the live page in a real Chromium (see docs/viz.md)."""
