"""Tests of the FEEL expression language (zeebe_trio.engine.feel)."""
