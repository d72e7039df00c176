"""The `local` backend: container tasks as supervised processes on this machine (`backend`), cold or warm (`warm`).

Kept free of imports: the process programs in this package (`runner`, `warm.server`, `warm.worker`) run
where only the standard library can be imported, and loading them loads this package first.
"""
