"""Exercises (演练): recordings, isolated replays through the real pipeline, scoring."""
