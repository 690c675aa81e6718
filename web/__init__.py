"""The Flask application, persistence, background jobs and the CLI: the only layer that knows HTTP."""
