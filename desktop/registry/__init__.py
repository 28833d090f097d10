"""The registry panel (台账): the items the command centre keeps for years, by kind.

:mod:`desktop.registry.state` holds them (no Qt) and :mod:`desktop.registry.forms` checks
what an officer types (no Qt); the Qt side is the table model, the panel, the edit dialog
and the bridge to the server (:mod:`desktop.registry.desk`)."""
