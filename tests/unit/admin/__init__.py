"""Unit tests of admin, mirroring its packages."""
