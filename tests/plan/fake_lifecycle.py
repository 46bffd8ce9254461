#!/usr/bin/env python3
"""A stand-in for `edgecr create/start/state/delete`, used as EDGECR_PLAN_LIFECYCLE by
test_switch_cli.py until the Linux lifecycle lands: it keeps each
container's state in ROOT/fake/NAME.json and logs every call.  With
FAKE_KILL_AT=N it SIGKILLs its caller (the `edgecr plan` process) at its Nth
create/start/delete call, after doing the work when FAKE_KILL_AFTER=1,
before it otherwise: a crash at that exact step.  With FAKE_FAIL_START=NAME
(or NAME:CHECKSUM, one version of it) the start of NAME fails (exit 1, the container stays `created`), as a
kernel refusing its settings would."""
import json
import os
import pathlib
import signal
import sys


def main():
    args = sys.argv[1:]
    root = pathlib.Path(args[args.index("--root") + 1])
    args = args[args.index("--root") + 2:]
    fake = root / "fake"
    fake.mkdir(parents=True, exist_ok=True)
    cmd, name = args[0], args[-1]
    state = fake / f"{name}.json"
    with open(fake / "log", "a") as log:
        log.write(f"{cmd} {name}\n")
    mutating = cmd in ("create", "start", "delete")
    kill_at = int(os.environ.get("FAKE_KILL_AT", "0"))
    after = os.environ.get("FAKE_KILL_AFTER") == "1"
    if mutating and kill_at:
        counter = fake / "calls"
        n = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(n))
        if n == kill_at and not after:
            os.kill(os.getppid(), signal.SIGKILL)
            return 1
    if cmd == "create":
        if state.exists():
            print(f"container {name} exists", file=sys.stderr)
            return 1
        entry = json.loads(os.environ["EDGECR_PLAN_CONTAINER"])
        state.write_text(json.dumps({"status": "created", "bundle": args[args.index("--bundle") + 1],
                                     "checksum": entry["checksum"]}))
    elif cmd == "start":
        s = json.loads(state.read_text())
        fail = os.environ.get("FAKE_FAIL_START", "").split(":")
        if fail[0] == name and s["checksum"].startswith(fail[1] if len(fail) > 1 else ""):
            print(f"start {name}: Invalid argument", file=sys.stderr)
            return 1
        s["status"] = "running"
        state.write_text(json.dumps(s))
    elif cmd == "state":
        if not state.exists():
            print(f"container {name} does not exist", file=sys.stderr)
            return 1
        print(state.read_text())
    elif cmd == "delete":
        if state.exists():
            state.unlink()
    if mutating and kill_at and n == kill_at and after:
        os.kill(os.getppid(), signal.SIGKILL)
    return 0


sys.exit(main())
