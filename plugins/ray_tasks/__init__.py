"""The `ray-tasks` backend: ordinary flytekit tasks run as Ray tasks on a Ray cluster (see `backend` and `driver`)."""
