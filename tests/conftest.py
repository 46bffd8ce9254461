"""Settings every suite under tests/ shares.

Tenants' kv stores (default /var/lib/edgecr/kv) and version records
(default /var/lib/edgecr/tenants) outlive a test run.  Unless the
environment names them when the run starts, they go to directories of the
run: one for the session (what long-lived helpers such as a containerd
daemon started by a module fixture inherit), and one per test (what the
test's own edgecr commands see), so a run leaves nothing on the host and
never sees data of an earlier run or test."""
import os

import pytest

TENANT_STATE = (("EDGECR_KV_ROOT", "tenant-kv"), ("EDGECR_TENANT_DIR", "tenant-records"))
USER_SET = {var for var, _ in TENANT_STATE if var in os.environ}


@pytest.fixture(scope="session", autouse=True)
def _session_tenant_state(tmp_path_factory):
    base = tmp_path_factory.mktemp("tenant-state")
    for var, sub in TENANT_STATE:
        if var not in USER_SET:
            os.environ[var] = str(base / sub)
    yield
    for var, _ in TENANT_STATE:
        if var not in USER_SET:
            os.environ.pop(var, None)


@pytest.fixture(autouse=True)
def _private_tenant_state(monkeypatch, tmp_path):
    for var, sub in TENANT_STATE:
        if var not in USER_SET:
            monkeypatch.setenv(var, str(tmp_path / sub))
