"""The composition root: the `flyteplane` command wires configuration and components together."""
