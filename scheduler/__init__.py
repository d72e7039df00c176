"""The scheduler: fires the schedules of active launch plans as executions through admin."""
