#!/usr/bin/env bash
# One command for the demo: virtualenv, install, migrate, load the demo project, serve.
# Embedded mode: SQLite file in var/, Celery eager, no services needed.
# Usage: ./scripts/demo.sh [--no-server] [PORT]
source "$(dirname "$0")/_venv.sh"
serve=1
port=8000
for arg in "$@"; do
  case "$arg" in
    --no-server) serve=0 ;;
    *) port="$arg" ;;
  esac
done
ensure_venv requirements.txt
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py load_demo
if [[ "$serve" == 1 ]]; then
  echo "==> serving on http://127.0.0.1:${port}/admin/  (API docs: http://127.0.0.1:${port}/api/docs/)"
  exec .venv/bin/python manage.py runserver "127.0.0.1:${port}"
fi
