"""Early warning (预警): warnings raised before an alarm, from sensor trends, from several
sensors of one hazard source rising together, and from imported weather alerts
(docs/early-warning.md)."""
