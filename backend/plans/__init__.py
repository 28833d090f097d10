"""Emergency plans (应急预案) in incidents: which plan applies, and its checklist."""
