"""The catalogue: form declarations and program packs (no Flask, no database)."""
