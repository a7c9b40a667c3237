# Sourced by the scripts: makes .venv in the checkout and installs a requirements file
# into it, skipping the install when the file has not changed since the last one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ensure_venv() {
  local req="$1"
  local py="${PYTHON:-python3}"
  if [[ ! -x .venv/bin/python ]]; then
    echo "==> creating .venv with $($py --version)"
    "$py" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
  fi
  local stamp=".venv/.installed-$(basename "$req")"
  local digest
  digest="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
    echo "==> installing $req into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$digest" > "$stamp"
  fi
  mkdir -p var
}
