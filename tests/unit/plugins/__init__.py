"""Unit tests of the plugin registry, its configuration and command rendering."""
