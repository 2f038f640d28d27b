# Shared by scripts/demo and scripts/test: make (or reuse) the project venv and install keeneye into it.
# Usage: source scripts/_env.sh EXTRAS   (e.g. "demo" or "dev")
set -euo pipefail
KEENEYE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KEENEYE_VENV:-$KEENEYE_ROOT/.venv}"
extras="$1"
if [ ! -x "$VENV/bin/python" ]; then
  echo "keeneye: creating virtual environment in $VENV" >&2
  python3 -m venv "$VENV"
fi
stamp="$VENV/.keeneye-installed-$extras"
if [ ! -f "$stamp" ] || [ "$KEENEYE_ROOT/pyproject.toml" -nt "$stamp" ]; then
  echo "keeneye: installing keeneye[$extras] (first run only)" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$KEENEYE_ROOT[$extras]"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
