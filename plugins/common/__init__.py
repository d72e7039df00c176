"""What several backends share, so that no backend imports another: a task's command and environment for an
attempt (`command`, `templates`), and the Spark and Ray task customs (`spark`, `ray`)."""
