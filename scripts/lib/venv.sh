# The virtualenv in .venv that scripts/serve, scripts/test and scripts/check share; sourced by
# them from the checkout's root. pip runs only the first time and again when setup.cfg or
# pyproject.toml change (a stamp in .venv); after that the scripts work offline.

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi

# The stamp of an install: what it was made from (setup.cfg, pyproject.toml) and with which extras.
stamp() { { sha256sum setup.cfg pyproject.toml; echo "extras: $1"; } | sha256sum | cut -d' ' -f1; }
stamped() { [ "$(cat ".venv/.lrs-ws-stamp-$1" 2>/dev/null)" = "$(stamp "$2")" ]; }

# install_into_venv NAME EXTRAS: pip install -e '.[EXTRAS]' (-e . with none) into .venv, stamped NAME.
install_into_venv() {
  local name="$1" extras="$2" target="."
  [ -z "$extras" ] || target=".[$extras]"
  rm -f ".venv/.lrs-ws-stamp-$name"
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target" >.venv/install.log 2>&1; then
    echo "lrs-ws: \"pip install -e '$target'\" into .venv failed; the end of .venv/install.log:" >&2
    tail -n 30 .venv/install.log >&2
    exit 1
  fi
  stamp "$extras" >".venv/.lrs-ws-stamp-$name"
  echo "lrs-ws: installed into .venv (once; again only when setup.cfg changes)"
}

# scripts/test and scripts/check: one install of the test tools and the checkers.
TEST_EXTRAS="test,dev"
install_for_tests() {
  if [ ! -x .venv/bin/lrs-ws ] || [ ! -x .venv/bin/pytest ] || [ ! -x .venv/bin/ruff ] \
     || [ ! -x .venv/bin/mypy ] || ! stamped test "$TEST_EXTRAS"; then
    install_into_venv test "$TEST_EXTRAS"
  fi
}
