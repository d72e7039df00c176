"""Plugins against real storage and real flytekit task processes."""
