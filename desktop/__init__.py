"""The DutyDesk console: a PySide6 desktop for duty officers.

Plain-Python state (:mod:`desktop.state`) holds what the server told us; one service
object (:mod:`desktop.service`) is the only bridge between the asyncio client and Qt;
widgets are thin views over both. Only :mod:`realtime` of ours is imported here.
"""
