"""Running a long-lived asyncio service: requests handled in groups (``grouping``),
short garbage-collector pauses (``collector``), and recurring failures logged once per
episode (``episodes``).

Domain-free: imports nothing of the backend, so every package may use it.
"""
