"""Running a long-lived asyncio service: requests handled in groups (``grouping``) and
short garbage-collector pauses (``collector``).

Domain-free: imports nothing of the backend, so every package may use it.
"""
