"""Unit tests of admin.managers."""
