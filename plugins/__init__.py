"""Task plugins: one handler interface (plugins.core) with backends for local processes and clusters."""
