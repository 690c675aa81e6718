"""Notices, blank forms, published lists (no Flask, no database)."""
