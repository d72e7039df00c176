"""Task plugins: one handler interface with backends for local processes and clusters."""
