"""Ingest, read, OCR, locate, normalize (no Flask, no database)."""
