"""Warm starts of the `local` backend: which attempts start warm (`plan`), the pool of warm processes (`pool`),
and the programs it runs in the task environment (`server`: fork servers; `worker`: reuse workers; `interpreter`:
what both do to start and to enter an attempt).

Kept free of imports, like `plugins.local`: `server` and `worker` run where only the standard library can be
imported.
"""
