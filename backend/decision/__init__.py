"""Decision support for hazardous-chemical incidents: the chemical table, the isolation and
protective-action rings, and what lies inside them."""
