# Sourced (not run) by the ci/ scripts that need Python packages: makes sure
# a virtual environment exists (target/ci-venv, or $CI_VENV) and puts it
# first on PATH, so that `python3` and `python3 -m pip install` there never
# touch the system Python (Debian's and Ubuntu's refuse `pip install`).
# `python3 -m venv` needs the venv module: pyenv's and python.org's Pythons
# have it; Debian and Ubuntu ship it as python3-venv, installed here when
# running as root with apt-get, else the error says to install it.
CI_VENV="${CI_VENV:-$PWD/target/ci-venv}"
if [[ ! -x "$CI_VENV/bin/python3" ]]; then
  if ! python3 -m venv "$CI_VENV" >/dev/null 2>&1; then
    rm -rf "$CI_VENV"
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      echo "python3 -m venv failed: installing Debian's python3-venv" >&2
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$CI_VENV"
    else
      echo "error: \`python3 -m venv $CI_VENV\` failed: install Python's venv module (Debian, Ubuntu: \`sudo apt-get install python3-venv\`) and run again" >&2
      exit 2
    fi
  fi
fi
export VIRTUAL_ENV="$CI_VENV"
export PATH="$CI_VENV/bin:$PATH"
