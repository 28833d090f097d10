"""The console's incidents and tasks: the plain board, the incident workspace, the task
inbox, the incident list and the status-bar badge."""
