"""FlyteAdmin: the front door for registration, executions and their records."""
