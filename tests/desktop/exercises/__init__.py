"""Tests of the console's exercises (演练): the panel, the drill console, the state."""
