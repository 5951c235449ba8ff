#!/usr/bin/env bash
# The system packages the test suite needs (Debian/Ubuntu names), installed when missing.
#   bubblewrap             sandboxes students' kernels (tests/autograde/test_sandbox.py, grading)
#   chromium               drives JupyterLab in the browser tests (tests/ui)
#   dataset-fashion-mnist  the dataset most notebooks train on, offline
#   postgresql             a throwaway server for grading into PostgreSQL (tests/autograde/test_postgres.py)
# As root with apt-get, missing ones are installed; otherwise this stops at once with
# one message naming each missing part and the command that installs it.
# SYSTEM_DEPS_ROOT (default: empty, i.e. /) prefixes the fixed paths looked at; tests use it.
set -euo pipefail

root=${SYSTEM_DEPS_ROOT:-}
have_postgres() {
  command -v initdb >/dev/null && return 0
  local found
  for found in "$root"/usr/lib/postgresql/*/bin/initdb; do [ -x "$found" ] && return 0; done
  return 1
}

need=()
[ -d "$root/usr/share/datasets/fashion-mnist" ] || [ -n "${COURSE_DATA_DIR:-}" ] || need+=(dataset-fashion-mnist)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v chromium >/dev/null || [ -x "$root/usr/bin/chromium" ] || need+=(chromium)
have_postgres || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo)
  else
    as_root=none
  fi
  if [ "${as_root[*]}" != none ]; then
    echo "installing system packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
    exit 0
  fi
  why="you are not root and sudo asks for a password"
else
  why="there is no apt-get here; the names below are Debian/Ubuntu's"
fi

{
  echo "The tests need system packages that are missing and cannot be installed from here, as $why:"
  for pkg in "${need[@]}"; do
    case $pkg in
      dataset-fashion-mnist) echo "  - Fashion-MNIST: sudo apt-get install dataset-fashion-mnist (or put the four .gz files in \$COURSE_DATA_DIR/fashion-mnist)";;
      bubblewrap) echo "  - bubblewrap (sandbox for graded kernels): sudo apt-get install bubblewrap";;
      chromium) echo "  - Chromium (browser tests): sudo apt-get install chromium";;
      postgresql) echo "  - PostgreSQL server (grading into postgresql://): sudo apt-get install postgresql";;
    esac
  done
  echo "All at once: sudo apt-get install ${need[*]}"
  echo "Install them, then run 'make test' again."
} >&2
exit 1
