"""Call queues, their agents and supervisors."""
