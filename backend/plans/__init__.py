"""Emergency plans (预案) in incidents: which plan applies, and its checklist.

- :mod:`~backend.plans.matching`: the one rule for which plans apply to an incident.
- :mod:`~backend.plans.store`: the plans as ``registry_items`` rows hold them (read only:
  the registry service writes them) and who may see and change one.
- :mod:`~backend.plans.checklist`: an incident's checklist and its ticks
  (``incident.checklist``, ``incident.tick``).
- :mod:`~backend.plans.documents`: who may attach and read a plan's documents (the chat's
  attachment store keeps the bytes).

Imports the incident service's readers and the event log; never the server or the chat.
"""
