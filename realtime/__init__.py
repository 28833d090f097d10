"""The DutyDesk wire contract (message schema, alarm state machine) and its async client.

This package imports nothing else of ours and no Qt, so the backend, the device
gateways and the desktop all speak exactly the same language.
"""

PROTOCOL_VERSION = 1
"""Version of the wire protocol; sent in the server's welcome and the client's hello."""
