"""Hidden-danger investigation and rectification (隐患排查治理): the life cycle
(:mod:`~backend.dangers.lifecycle`), the store, the service, deadlines and escalation,
statistics and the Excel export. See docs/hidden-dangers.md."""
