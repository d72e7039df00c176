"""Spark and Ray tasks written with flytekit's plugins, as users write them; run by the Spark and Ray tests."""
