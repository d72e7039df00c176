"""The client commands for people (`flyteplane executions|watch|logs|open`), against any admin endpoint."""
