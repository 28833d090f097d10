"""The DutyDesk console: a PySide6 desktop for duty officers.

A plain-Python model (:mod:`desktop.console_model`, with the stores of
:mod:`desktop.state` and the others it lists) holds what the server told us and emits
plain events; one service object (:mod:`desktop.service`) is the only bridge between the
asyncio client and Qt; widgets are thin views over both (import-linter keeps Qt out of
the model). Only :mod:`realtime` of ours is imported here.
"""
