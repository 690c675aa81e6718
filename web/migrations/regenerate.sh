#!/usr/bin/env bash
# Regenerate a new migration from the models: web/migrations/regenerate.sh "message" REV
# (autogenerate against a scratch SQLite database at the current head).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
.venv/bin/python - "$1" "$2" "$tmp" <<'PY'
import sys
from alembic import command
from web.db import alembic_config, make_engine, upgrade
msg, rev, tmp = sys.argv[1:]
engine = make_engine(f"sqlite:///{tmp}/scratch.db")
upgrade(engine)
command.revision(alembic_config(engine), message=msg, autogenerate=True, rev_id=rev)
PY
rm -rf "$tmp"
