"""Shared fixtures of the plan tests: the edgecr binary and the example configs."""
import os
import subprocess

import pytest

from plan_helpers import edgecr_bin


@pytest.fixture
def edgecr():
    """Run `edgecr ARGS...`; returns the CompletedProcess (text)."""
    binary = edgecr_bin()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"edgecr binary not found at {binary} (set EDGECR_BIN)")

    def run(*args, env=None, check=None, timeout=60):
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True,
                           env=full_env, timeout=timeout)
        if check is not None:
            assert p.returncode == check, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        return p
    return run
