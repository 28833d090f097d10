"""The hidden-danger console (隐患排查治理): the bureau's board (dangers filtered, their
detail, history and photos, the actions a role may take, inspections, statistics with
ranking, the Excel export) and an enterprise user's workplace."""
