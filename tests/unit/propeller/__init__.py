"""Unit tests of propeller, one package per propeller package."""
