"""The server: one WebSocket port for consoles and device feeds, and ``GET /health``.

Owns ``app`` (start-up, the endpoints, sessions), ``hub`` (fan-out to consoles), and
``embedded``/``testing`` (a real server in a thread for the demo, tests and benches).
The top of the service: it may import every domain package; no domain imports it.
"""
