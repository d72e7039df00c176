"""Unit tests of admin.managers.events."""
