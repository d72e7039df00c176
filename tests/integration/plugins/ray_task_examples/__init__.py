"""Ordinary flytekit tasks for the ray-tasks backend's tests (imported only by flytekit's interpreter)."""
