"""Workflows about how the engine fails, retries, waits, resumes and survives crashes (flytekit-only imports)."""
