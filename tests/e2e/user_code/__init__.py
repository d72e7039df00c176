"""Workflows as users write them, for the features flytekit leans on the plane for (tests/e2e/test_user_code.py)."""
