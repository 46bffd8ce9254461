"""`channels:` in a plan: `edgecr plan check` accepts a valid channel graph
and refuses a wrong one with FILE:LINE and the field (docs/channels.md).
What `plan apply` makes of them: tests/plan/test_plan_channels_run.py."""
import os
import subprocess
from pathlib import Path

import pytest

EDGECR = Path(os.environ.get("EDGECR_BIN", Path(__file__).resolve().parents[2] / "build/src/cli/edgecr"))

PLAN = """\
name: chan-demo
node:
  cores: 2
  rt_cores: [1]
  memory: 1GiB
containers:
  - name: ctl
    bundle: bundles/ctl
    rt: {policy: fixed-priority, period: 10ms, budget: 1ms, priority: 80, core: 1}
  - name: log
    bundle: bundles/log
channels:
  - name: imu
    kind: fifo
    message_size: 64
    depth: 16
    writers: [ctl]
    readers: [log]
    wait: futex
    full: overwrite
  - name: pose
    kind: latest
    message_size: 24
    writers: [ctl]
    readers: [log, ctl]
"""


def check(tmp_path, text):
    if not EDGECR.exists():
        pytest.skip(f"{EDGECR} not built")
    p = tmp_path / "plan.yaml"
    p.write_text(text)
    r = subprocess.run([str(EDGECR), "plan", "check", str(p)], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stderr.replace(str(p), "plan.yaml")


def test_valid_channel_graph(tmp_path):
    rc, err = check(tmp_path, PLAN)
    assert rc == 0, err


@pytest.mark.parametrize("old,new,want", [
    ("depth: 16", "depth: 0", "plan.yaml:16: `channels.imu.depth`: 0: must be 1..65536"),
    ("message_size: 64", "message_size: 2000000", "plan.yaml:15: `channels.imu.message_size`: 2000000: must be 1..1048576"),
    ("writers: [ctl]\n    readers: [log]\n", "readers: [log]\n", "plan.yaml:13: `channels.imu.writers`: missing"),
    ("writers: [ctl]\n    readers: [log]\n", "writers: [ctl, log]\n    readers: [log]\n",
     "plan.yaml:17: `channels.imu.writers`: 2 writers: a channel has exactly one writer"),
    ("readers: [log]\n", "readers: []\n", "plan.yaml:18: `channels.imu.readers`: 0 readers"),
    ("readers: [log]\n", "readers: [logger]\n", "plan.yaml:18: channels[0].readers: \"logger\" is not a container of this plan"),
    ("readers: [log]\n", "readers: 1\n", "plan.yaml:18: channels[0].readers: must list the containers of this plan"),
    ("  - name: pose\n", "  - name: imu\n", "plan.yaml:21: channels[1]: channel \"imu\" is declared twice (first at line 13)"),
    ("full: overwrite", "full: drop", "plan.yaml:20: `channels.imu.full`: must be `fail` or `overwrite`"),
    ("wait: futex", "wait: spin", "plan.yaml:19: `channels.imu.wait`: must be `poll` or `futex`"),
    ("wait: futex", "colour: red", "plan.yaml:19: `channels.imu.colour`: unknown field"),
    ("wait: futex", "colour: [a, {b: 1}]", "plan.yaml:19: `channels.imu.colour`: unknown field"),
    ("kind: latest", "kind: {a: 1}", "plan.yaml:22: `channels.pose.kind`: must be `fifo` or `latest`"),
    ("kind: latest", "kind: stack", "plan.yaml:22: `channels.pose.kind`: must be `fifo` or `latest`"),
])
def test_channel_errors_name_line_and_field(tmp_path, old, new, want):
    assert old in PLAN
    rc, err = check(tmp_path, PLAN.replace(old, new, 1))
    assert rc != 0
    assert want in err, err
