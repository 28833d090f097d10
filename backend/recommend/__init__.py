"""Resource recommendation: rank teams, units, equipment, experts and shelters for a place
and the applicable plan's needs (issue 16)."""
