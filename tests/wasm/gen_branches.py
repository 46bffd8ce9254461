#!/usr/bin/env python3
"""Generate tests/wasm/spec/branches.wast: every branch kind to every kind of
enclosing label, forward and backward, taken and not taken.

Branch kinds are the shapes the compiler turns into distinct IR ops: br,
br_if (on a local, on i32.eqz, on each of the ten i32 comparisons, also
with the compared value computed by the op right before, on an i32.add
with and without i32.eqz), the loop-tail shapes (`i += k; if (i CMP
n)` with an immediate or a local step, with and without two pointer
increments in front), runs of copies followed by br, and br_table.  Labels
are block, loop (backward: the label is the loop header), the then and the
else arm of an if, and the function body; each with and without a value
(a loop's value is its parameter), each at depth 0 and 1 from the branch.
Every function is invoked with arguments that take the branch and with
arguments that do not.  A run of the family under an -DEW_PROFILE build
showed every branch op of the IR (BR, BR_IF(Z), BR_TABLE, the ten BR_*32,
their accumulator _A variants, ADD_BR_IF(Z), ADD_/ADD3_/ADDI_/ADDI3_BR_*32,
MOV32_BR and the MOV32_X*_BR runs) executed.

The expected results come from wabt's reference interpreter (wasm-interp,
run here on zero-argument wrappers), and tests/wasm/test_spec.py runs the
script through wabt's spectest-interp as well, so the reference checks it
again on every run.  Regenerate with:

    tests/wasm/gen_branches.py > tests/wasm/spec/branches.wast

(The first BR_TABLE bug this family found: a br_table entry that targets a
loop jumped ~16 GiB past the code, since its backward offset was added to
an unsigned index.)
"""
import os
import re
import subprocess
import sys
import tempfile

CMPS = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]

KINDS = (["br", "br_if", "br_ifz", "br_add", "br_addz", "copies_br", "br_table"] +
         ["br_" + c for c in CMPS] + ["acc_" + c for c in CMPS] +
         ["addi_" + c for c in CMPS] + ["add_" + c for c in CMPS] +
         ["addi3_" + c for c in CMPS] + ["add3_" + c for c in CMPS])

FORWARD_ARGS = [-1, 0, 1, 2, 5]     # forward: each condition is true for some, false for others
LOOP_ARGS = [1, 2, 4]               # backward: iterations while i < n (n >= 1 terminates)


class Fn:
    """One function: a list of instruction lines and a label stack."""

    def __init__(self):
        self.lines = []
        self.labels = []     # innermost last

    def emit(self, *ins):
        self.lines.extend(ins)

    def open(self, name, head):
        self.labels.append(name)
        self.emit(head)

    def close(self, name):
        assert self.labels[-1] == name
        self.labels.pop()
        self.emit("end")

    def depth(self, name):
        """Relative depth of a label; "func" is the function body."""
        if name == "func":
            return len(self.labels)
        return len(self.labels) - 1 - self.labels.index(name)


def inc(var, by):
    return [f"local.get ${var}", by, "i32.add", f"local.set ${var}"]


def consume(f):
    """acc = value * 3 + acc: folds a label's value into the result."""
    f.emit("local.get $acc", "i32.const 3", "i32.mul", "i32.add", "local.set $acc")


def forward_cond(kind):
    """Instructions leaving an i32 condition for a forward conditional branch
    (the branch op itself is added by the caller), from $n."""
    if kind == "br_if":
        return ["local.get $n"]
    if kind == "br_ifz":
        return ["local.get $n", "i32.eqz"]
    if kind == "br_add":
        return ["local.get $n", "local.get $k", "i32.add"]
    if kind == "br_addz":
        return ["local.get $n", "local.get $k", "i32.add", "i32.eqz"]
    op = kind.split("_", 1)[1]
    if kind.startswith("br_"):
        return ["local.get $n", "i32.const 2", f"i32.{op}"]
    if kind.startswith("acc_"):
        # the compared value is the result of the op right before (the
        # accumulator variants of the compare-and-branch ops)
        return ["local.get $n", "local.get $k", "i32.mul", "i32.const 2", f"i32.{op}"]
    step = "i32.const 1" if kind.startswith(("addi_", "addi3_")) else "local.get $k"
    pre = []
    if kind.startswith(("addi3_", "add3_")):
        pre = inc("p", "i32.const 4" if kind.startswith("addi3_") else "local.get $k") + \
              inc("q", "i32.const 8" if kind.startswith("addi3_") else "local.get $k")
    return pre + inc("i", step) + ["local.get $i", "local.get $n", f"i32.{op}"]


def loop_cond(kind):
    """A condition true while i < n (n >= 1), i being incremented by the
    caller unless the kind's shape increments it itself."""
    if kind == "br_if":
        return ["local.get $i", "local.get $n", "i32.lt_s", "local.set $c", "local.get $c"]
    if kind == "br_ifz":
        return ["local.get $i", "local.get $n", "i32.ge_s", "local.set $c", "local.get $c", "i32.eqz"]
    if kind == "br_add":      # i + (-n) != 0
        return ["local.get $i", "local.get $negn", "i32.add"]
    if kind == "br_addz":     # (i < n) + (-1) == 0
        return ["local.get $i", "local.get $n", "i32.lt_s", "local.set $c",
                "local.get $c", "local.get $neg1", "i32.add", "i32.eqz"]
    op = kind.split("_", 1)[1]
    base = op.split("_")[0]
    # operands (a, b) with a OP b <=> i < n (for i, n >= 0, n >= 1)
    pair = {"lt": ("$i", "$n"), "gt": ("$n", "$i"), "le": ("$i", "$m"), "ge": ("$m", "$i"),
            "ne": ("$i", "$n"), "eq": ("$i", "$one")}[base]   # eq: taken once (i == 1)
    cmp = [f"local.get {pair[0]}", f"local.get {pair[1]}", f"i32.{op}"]
    if kind.startswith("br_"):
        return cmp
    if kind.startswith("acc_"):
        return [f"local.get {pair[0]}", "local.get $k", "i32.mul", f"local.get {pair[1]}",
                f"i32.{op}"]
    step = "i32.const 1" if kind.startswith(("addi_", "addi3_")) else "local.get $k"
    pre = []
    if kind.startswith(("addi3_", "add3_")):
        pre = inc("p", "i32.const 4" if kind.startswith("addi3_") else "local.get $k") + \
              inc("q", "i32.const 8" if kind.startswith("addi3_") else "local.get $k")
    return pre + inc("i", step) + cmp


def self_incrementing(kind):
    return kind.startswith(("addi_", "add_", "addi3_", "add3_"))


def value(f, src):
    """Push the value a branch carries: a computed one or a local."""
    if src == "comp":
        f.emit("local.get $acc", "i32.const 77", "i32.add")
    else:
        f.emit("local.get $acc")


def branch(f, kind, target, other, v, src, cond):
    """Emit the branch of `kind` to label `target`; `other` is the second
    label of a br_table and the exit of unconditional branches in loops."""
    t = f.depth(target)
    if kind == "br":
        if v:
            value(f, src)
        f.emit(f"br {t}")
    elif kind == "copies_br":
        f.emit("local.get $acc", "local.set $p", "local.get $i", "local.set $q",
               "local.get $k", "local.set $c")
        if v:
            f.emit("local.get $p")
        f.emit(f"br {t}")
    elif kind == "br_table":
        o = f.depth(other)
        if v:
            value(f, src)
        f.emit(*cond)
        f.emit(f"br_table {t} {o} {t} {o}")
    else:
        if v:
            value(f, src)
        f.emit(*cond)
        f.emit(f"br_if {t}")
        if v:
            f.emit("drop")


def forward(kind, label, v, d, src):
    f = Fn()
    res = " (result i32)" if v else ""
    f.emit("i32.const 1", "local.set $k", "i32.const 5", "local.set $acc")
    f.open("O", f"block $O{res}")
    if label == "block":
        f.open("T", f"block $T{res}")
    elif label == "then":
        f.open("T", f"local.get $k\nif $T{res}")
    elif label == "else":
        f.emit("local.get $i")
        f.labels.append("T")
        f.emit(f"if $T{res}")
        if v:
            f.emit("i32.const 2000")
        f.emit("else")
    if d:
        f.open("M", f"block $M{res}")
    target = "func" if label == "func" else "T"
    if kind == "br_table":
        # index n: 0 and 2 -> target, others -> the other label
        cond = ["local.get $n"]
    elif kind in ("br", "copies_br"):
        cond = None
    else:
        cond = forward_cond(kind)
    if kind in ("br", "copies_br"):
        # unconditional: taken when n is odd, else skipped by a block around it
        f.open("S", "block $S")
        f.emit("local.get $n", "i32.const 1", "i32.and", "i32.eqz", f"br_if {f.depth('S')}")
        branch(f, kind, target, "O", v, src, cond)
        f.close("S")
    else:
        branch(f, kind, target, "O", v, src, cond)
    f.emit(*inc("acc", "i32.const 10"))
    # the fallthrough value of the innermost label (O's comes last)
    if v and (d or label != "func"):
        f.emit("local.get $acc", "i32.const 1", "i32.add")
    if d:
        f.close("M")
        if v:
            consume(f)
            if label != "func":
                f.emit("local.get $acc")
    if label in ("block", "then", "else"):
        if label == "then":
            f.emit("else")
            if v:
                f.emit("i32.const 3000")
        f.close("T")
        if v:
            consume(f)
    f.emit(*inc("acc", "i32.const 100"))
    if v:
        f.emit("local.get $acc")
    f.close("O")
    if v:
        consume(f)
    f.emit("local.get $acc", "local.get $i", "i32.const 1000", "i32.mul", "i32.add",
           "local.get $p", "i32.const 100000", "i32.mul", "i32.add",
           "local.get $q", "i32.const 10000000", "i32.mul", "i32.add")
    return f


def backward(kind, v, d, src):
    f = Fn()
    f.emit("i32.const 1", "local.set $k", "i32.const 1", "local.set $one", "i32.const -1",
           "local.set $neg1", "local.get $n", "i32.const 1", "i32.sub", "local.set $m",
           "i32.const 0", "local.get $n", "i32.sub", "local.set $negn")
    res = " (result i32)" if v else ""
    f.open("O", f"block $O{res}")
    if v:
        f.emit("i32.const 0")
    f.open("T", "loop $T" + (" (param i32) (result i32)" if v else ""))
    if v:
        consume(f)
    f.emit(*inc("acc", "i32.const 1"), *inc("acc", "local.get $acc"))
    if d:
        f.open("M", f"block $M{res}")
    if not self_incrementing(kind):
        f.emit(*inc("i", "i32.const 1"))
    if kind in ("br", "copies_br"):
        # leave through O once i >= n, else branch back
        if v:
            value(f, src)
        f.emit("local.get $i", "local.get $n", "i32.ge_s", f"br_if {f.depth('O')}")
        if v:
            f.emit("drop")
        branch(f, kind, "T", "O", v, src, None)
    elif kind == "br_table":
        # index 0 (i < n) -> the loop, 1 -> out through O
        branch(f, kind, "T", "O", v, src, ["local.get $i", "local.get $n", "i32.ge_s"])
    else:
        branch(f, kind, "T", "O", v, src, loop_cond(kind))
    if v:
        f.emit("local.get $acc", "i32.const 1", "i32.add")
    if d:
        f.close("M")
        if v:
            consume(f)
            f.emit("local.get $acc")
    f.close("T")
    f.close("O")
    if v:
        consume(f)
    f.emit("local.get $acc", "local.get $i", "i32.const 1000", "i32.mul", "i32.add",
           "local.get $p", "i32.const 100000", "i32.mul", "i32.add",
           "local.get $q", "i32.const 10000000", "i32.mul", "i32.add")
    return f


def cases():
    """(export name, Fn, arguments) for every combination."""
    for kind in KINDS:
        for label in ["block", "loop", "then", "else", "func"]:
            for v in [0, 1]:
                if label == "func" and not v:
                    continue   # the function body's label carries its result
                for d in [0, 1]:
                    src = "comp" if d == 0 else "local"
                    name = f"{kind}-{label}-v{v}-d{d}"
                    if label == "loop":
                        yield name, backward(kind, v, d, src), LOOP_ARGS
                    else:
                        yield name, forward(kind, label, v, d, src), FORWARD_ARGS


LOCALS = "(local $i i32) (local $acc i32) (local $k i32) (local $p i32) (local $q i32) " \
         "(local $c i32) (local $m i32) (local $one i32) (local $neg1 i32) (local $negn i32)"


def func_text(name, f):
    body = "\n    ".join(l for line in f.lines for l in line.split("\n"))
    return (f'  (func (export "{name}") (param $n i32) (result i32)\n    {LOCALS}\n'
            f"    {body})\n")


def reference_results(all_cases):
    """Run every (function, argument) in wabt's wasm-interp."""
    pairs = [(name, a) for name, _, args in all_cases for a in args]
    calls = [(f"w{i}", name, a) for i, (name, a) in enumerate(pairs)]
    # one module: the functions, and a wrapper per call (wasm-interp runs
    # only exports without parameters)
    text = ["(module"]
    index = {}
    for i, (name, f, _) in enumerate(all_cases):
        index[name] = i
        text.append(func_text(name, f))
    for w, name, a in calls:
        text.append(f'  (func (export "{w}") (result i32) (call {index[name]} (i32.const {a})))')
    text.append(")")
    with tempfile.TemporaryDirectory() as tmp:
        wat = os.path.join(tmp, "b.wat")
        wasm = os.path.join(tmp, "b.wasm")
        with open(wat, "w") as fh:
            fh.write("\n".join(text))
        subprocess.run(["wat2wasm", wat, "-o", wasm], check=True)
        out = subprocess.run(["wasm-interp", "--run-all-exports", wasm], check=True,
                             capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        m = re.match(r"^(w\d+)\(\) => i32:(-?\d+)$", line)
        if m:
            got[m.group(1)] = int(m.group(2))
    results = {}
    for w, name, a in calls:
        if w not in got:
            sys.exit(f"gen_branches: wasm-interp gave no result for {name}({a})")
        results[(name, a)] = got[w]
    return results


def main():
    all_cases = list(cases())
    results = reference_results(all_cases)
    out = [";; GENERATED by tests/wasm/gen_branches.py -- do not edit; see that file.",
           ";; Every branch kind to every kind of enclosing label (block, loop, if's",
           ";; then and else arms, function body), with and without values, at depth",
           ";; 0 and 1, taken and not taken; results from wabt's wasm-interp.", ""]
    # modules of 60 functions keep each one small
    for start in range(0, len(all_cases), 60):
        chunk = all_cases[start:start + 60]
        out.append("(module")
        for name, f, _ in chunk:
            out.append(func_text(name, f))
        out.append(")")
        for name, _, args in chunk:
            for a in args:
                out.append(f'(assert_return (invoke "{name}" (i32.const {a})) '
                           f"(i32.const {results[(name, a)]}))")
        out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
