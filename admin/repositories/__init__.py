"""Admin's queries, one module per aggregate; managers call these and never build SQL themselves."""
