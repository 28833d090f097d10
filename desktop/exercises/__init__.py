"""The exercises (演练) in the console: the trainer's panel, the drill window."""
