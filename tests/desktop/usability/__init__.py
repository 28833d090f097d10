"""Scripted usability scenarios: the clicks and keystrokes of an officer's common tasks."""
