# The interpreters of the supported range, from pyenv: sourced by .ci/run, and tried by tests/test_ci.py.

# The newest pyenv interpreter of a minor version, and status 0; else one sentence and status 1: a failure
# when CI=true (a run that skipped an end of the range would go green untested), else a skip.
pyenv_python() {
    local found
    found="$(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/"$1".*/bin/python 2>/dev/null \
        | sort -V | tail -n 1)"
    if [ -n "$found" ]; then
        echo "$found"
        return 0
    fi
    if [ "${CI:-}" = "true" ]; then
        echo "FAILED: CI must test Python $1, an end of the supported range, but pyenv has no Python $1 here (pyenv install $1)" >&2
    else
        echo "SKIPPED the run on Python $1: pyenv has no Python $1 on this machine (pyenv install $1)" >&2
    fi
    return 1
}
