"""Conference bridges of a domain (configuration)."""
