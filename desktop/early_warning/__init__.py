"""The early-warning (预警) desk of the console: the warnings of the user's area, live."""
