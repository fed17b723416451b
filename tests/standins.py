"""Fixtures that run the local Baserow and Docmost stand-ins (filled in with the sandbox)."""
