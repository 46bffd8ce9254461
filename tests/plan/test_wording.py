"""What the plan commands say (issue 9 #21): every subcommand's --help names
the command once, usage errors point at the right --help, counts agree in
number, the verdict says what fails and the assignment what it did."""
import re

import pytest

COMMANDS = ["check", "build", "list", "diff", "export", "import", "apply", "switch", "stop", "status",
            "recover", "monitor"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_names_the_command(edgecr, cmd):
    p = edgecr("plan", cmd, "--help", check=0)
    first = p.stdout.splitlines()[0]
    want = "usage: edgecr monitor " if cmd == "monitor" else f"usage: edgecr plan {cmd}"
    assert first.startswith(want), first
    assert "plan plan" not in p.stdout and "edgecr edgecr" not in p.stdout
    assert cmd in edgecr("plan", "--help", check=0).stdout


@pytest.mark.parametrize("cmd", ["check", "build", "diff", "apply", "switch", "stop", "status"])
def test_usage_errors_point_at_the_help(edgecr, cmd):
    p = edgecr("plan", cmd, "a", "b", "c", check=1)
    assert f"plan {cmd}: " in p.stderr and f"(see `edgecr plan {cmd} --help`)" in p.stderr, p.stderr


def no_bad_plurals(text):
    assert not re.search(r"\b1 (cores|containers|CPUs|steps)\b", text), text


def test_counts_agree_in_number(edgecr, tmp_path):
    cfg = tmp_path / "one.yaml"
    cfg.write_text("node: {cores: 1}\ncontainers:\n  - {name: a, bundle: b, rt: {period: 10ms, budget: 1ms}}\n")
    out = edgecr("plan", "check", cfg, check=0).stdout
    no_bad_plurals(out)
    assert "1 core (1 for real-time), 1 container (1 real-time)" in out, out
    assert "verdict: schedulable (1 real-time container on 1 core)" in out, out
    cfg.write_text("node: {cores: 1}\ncontainers:\n  - {name: r, bundle: b, rt: {policy: deadline, period: 10ms, "
                   "budget: 9.9ms}}\n")
    out = edgecr("plan", "check", cfg, check=2).stdout
    no_bad_plurals(out)
    assert "global EDF on the 1 CPU of the root domain" in out, out
    assert "0.95 x 1 CPU =" in out, out


def test_assignment_says_what_it_did(edgecr, tmp_path):
    cfg = tmp_path / "a.yaml"
    cfg.write_text("node: {cores: 2}\ncontainers:\n  - {name: web, bundle: b}\n"
                   "  - {name: r, bundle: b, rt: {policy: deadline, period: 10ms, budget: 1ms}}\n")
    out = edgecr("plan", "check", cfg, check=0).stdout
    assert "core assignment: none needed (no SCHED_FIFO container)" in out, out
    cfg.write_text("node: {cores: 2}\ncontainers:\n  - {name: f, bundle: b, rt: {period: 10ms, budget: 1ms, core: 1}}\n")
    assert "core assignment: pinned" in edgecr("plan", "check", cfg, check=0).stdout


def test_verdict_names_every_failure(edgecr, tmp_path):
    cfg = tmp_path / "v.yaml"
    cfg.write_text("node: {cores: 2, memory: 1GiB}\ncontainers:\n"
                   "  - {name: a, bundle: b, memory: 2GiB, rt: {period: 10ms, budget: 2ms, core: 0}}\n"
                   "  - {name: b, bundle: b, rt: {period: 10ms, budget: 9ms, deadline: 9ms, core: 0}}\n")
    out = edgecr("plan", "check", cfg, check=2).stdout
    verdict = [line for line in out.splitlines() if line.startswith("verdict:")][0]
    assert verdict.startswith("verdict: NOT SCHEDULABLE (1 of 2 real-time containers can miss deadlines; 1 core fails"), verdict
    assert "the memory limits exceed node.memory" in verdict, verdict
