#!/usr/bin/env bash
# One command for every check and the whole test suite:
# lint (ruff), import contracts, mypy, makemigrations --check, then pytest.
#   ./scripts/test.sh              embedded default: SQLite, Celery eager, no services
#   ./scripts/test.sh --services   PostgreSQL + Redis on 127.0.0.1 (+ a real celery worker in tests)
#   RUN_SLOW=1 ./scripts/test.sh   also the tests marked slow (CI runs them in its first pass)
# Extra arguments go to pytest, e.g. ./scripts/test.sh tests/test_importing.py -x
source "$(dirname "$0")/_venv.sh"
mode=embedded
args=()
for a in "$@"; do
  case "$a" in
    --services) mode=services ;;
    *) args+=("$a") ;;
  esac
done
ensure_venv requirements-dev.txt

# Browser tests drive Debian's chromium (never a downloaded browser). Pages must draw every
# character (emoji, flags, CJK): Debian's emoji and CJK fallback fonts, if missing.
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null \
  && ! fc-list 2>/dev/null | grep -q "Noto Color Emoji\|Droid Sans Fallback"; then
  echo "==> installing Debian's emoji and CJK fonts for the browser tests"
  apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji \
      fonts-droid-fallback >/dev/null || echo "==> fonts not installed: glyph checks may fail"
fi
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "==> /usr/bin/chromium is missing and apt-get is not usable: browser tests will skip"
  fi
fi

if [[ "$mode" == services ]]; then
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/labeling}"
  export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
  export TEST_DATABASE_NAME="${TEST_DATABASE_NAME:-test_labeling}"
  # The main database must exist for makemigrations' consistency check (tests use their own).
  .venv/bin/python - <<'PY'
import os, psycopg
from urllib.parse import urlparse
url = urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
admin = url._replace(path="/postgres").geturl()
with psycopg.connect(admin, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PY
else
  unset DATABASE_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND
fi
# Long runs (tests marked slow: the large schemathesis pass) only with RUN_SLOW=1;
# .ci/run sets it for one pass.
skip=()
[[ "${RUN_SLOW:-}" == 1 ]] || skip+=("not slow")
if [[ "${CI:-}" == true && "$mode" == embedded ]]; then
  # Service tests run in the services pass; under CI no test may skip.
  skip+=("not services")
fi
marker=()
if ((${#skip[@]})); then
  expr="${skip[0]}"
  for s in "${skip[@]:1}"; do expr="$expr and $s"; done
  marker=(-m "$expr")
fi

echo "==> [$mode] ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --check .; exit 1; }
echo "==> [$mode] import contracts"
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
echo "==> [$mode] mypy"
.venv/bin/mypy
echo "==> [$mode] makemigrations --check"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
echo "==> [$mode] pytest"
set +e
.venv/bin/python -m pytest "${marker[@]}" "${args[@]}"
rc=$?
set -e
if [[ $rc == 5 ]]; then
  echo "pytest collected no tests: treating that as a failure (the suite is never empty)" >&2
  exit 1
fi
exit $rc
