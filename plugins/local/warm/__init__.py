"""Warm starts of the `local` backend: which attempts start warm (`plan`), the pool of warm processes (`pool`),
and the programs it runs in the task environment (`server`: fork servers; `worker`: reuse workers).

Kept free of imports, like `plugins.local`: `server` and `worker` run where only the standard library can be
imported.
"""
