#!/usr/bin/env python3
"""Generate a spec script of random straight-line i32 code built from the
shapes edgecr's compiler fuses, with results from wabt's wasm-interp.

The compiler (src/wasm/compile.c) folds op sequences into superinstructions
by cutting the ops it just emitted off the code and emitting the fused op
in their place, or by rewriting an op in place; the accumulator (EW_ACC)
then turns an op that reads the result of the op right before it into its
_A variant, from notes taken while emitting.  Whether that is right depends
on the operand words: which slot an op writes, which it reads, and a slot
number is also a word that can look like an opcode.  So the shapes here are
combined at random, each function with 48 locals whose roles (data values,
addresses, pointers) are shuffled, so that destinations and operands take
every small slot number: a local.set right after a fused op retargets its
destination to that local, and the op after it reads one of its operands.

Shapes (written the way clang emits them): indexed loads of every i32 kind
and two of them in a row (then multiplied, accumulated, kept in locals, or
followed by a load through one of their addresses), scaled and xor-scaled
indices, a pointer kept in a local and loaded through, the fused
arithmetic pairs (`z + x*y`, `z ^ rotl(x, y)`, ...) in both operand orders,
SHA-2's sigma functions, compares kept as values, every i32 binary op,
copies in runs, stores (plain, read-modify-write, multiply-accumulate, an
axpy through indexed pointers), and forward branches on compares, on
i32.eqz, on an add kept in a local and on loop-tail-like increments (the
fused compare-and-branch ops), each branching over further shapes.

Every address stays inside the one page: address locals are masked to
0x1ffc when assigned, pointers are sums of those, and each function first
copies the pristine 8 KiB at 0x8000 over the work area [0, 0x8000), which is
the only area stored to, so calls do not depend on each other.  Each
function returns a hash of its locals and of the work area.

The expected results come from wabt's wasm-interp (zero-argument wrappers
calling every function with each argument); tests/wasm/test_spec.py runs
the script in wabt's spectest-interp too and in edgecr's four modes.
Written for the stale accumulator note after the two-indexed-loads fusion
(tests/wasm/spec/acc.wast, x2_load*): the pre-fix engine fails this family.

    tests/wasm/gen_fused.py [seed] > fused_gen.wast
"""
import os
import random
import re
import subprocess
import sys
import tempfile

NLOCALS = 48                     # local 0 is the parameter
NFUNCS = 160
PIECES = 36
ARGS = [3, 0x12345]
PER_MODULE = 40
MASK = 0x1ffc

LOADS = ["i32.load", "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u"]
X2_LOADS = ["i32.load", "i32.load8_s", "i32.load8_u"]
OFFSETS = ["", " offset=4", " offset=13"]
BINOPS = ["add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"]
CMPS = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
PAIRS = [("mul", "add"), ("rotl", "xor"), ("shl", "add"), ("shr_u", "xor"), ("xor", "add"),
         ("and", "add"), ("and", "xor"), ("xor", "and"), ("add", "add"), ("xor", "xor")]


class Gen:
    def __init__(self, rng):
        self.rng = rng
        idx = list(range(1, NLOCALS))
        rng.shuffle(idx)
        self.data, self.addr, self.ptr = idx[:26], idx[26:40], idx[40:]
        self.lines = []

    # operand pickers
    def d(self):
        return self.rng.choice(self.data)

    def a(self):
        return self.rng.choice(self.addr)

    def p(self):
        return self.rng.choice(self.ptr)

    def val(self):
        r = self.rng.random()
        if r < 0.7:
            return f"(local.get {self.d()})"
        if r < 0.85:
            return f"(local.get {self.a()})"
        return f"(i32.const {self.rng.choice([0, 1, 4, 7, -1, 255, 0x10000, -0x7fffffff])})"

    def emit(self, *lines):
        self.lines.extend(lines)

    def set_addr(self, a, expr):
        self.emit(f"(local.set {a} (i32.and {expr} (i32.const {MASK})))")

    # ---- shapes -----------------------------------------------------------
    def load_idx(self):
        ld = self.rng.choice(LOADS) + self.rng.choice(OFFSETS)
        self.emit(f"(local.set {self.d()} ({ld} (i32.add (local.get {self.a()}) (local.get {self.a()}))))")

    def two_loads(self):
        rng = self.rng
        k1 = rng.choice(X2_LOADS)
        k2 = k1 if rng.random() < 0.8 else rng.choice(X2_LOADS)
        a1, a2, i = self.a(), self.a(), self.a()
        off = rng.choice(OFFSETS)
        self.emit(f"local.get {a1}", f"local.get {i}", "i32.add", k1 + off)
        if rng.random() < 0.4:
            self.emit(f"local.tee {self.d()}")
        self.emit(f"local.get {a2}", f"local.get {rng.choice([i, self.a()])}", "i32.add", k2 + off)
        tail = rng.randrange(5)
        if tail == 0:      # keep the second value, then load through an address just used
            reader = rng.choice([a2, a2, a1, i, self.a()])
            self.emit(f"local.set {self.d()}", f"local.get {reader}",
                      rng.choice(LOADS) + rng.choice(OFFSETS),
                      "i32." + rng.choice(["sub", "add", "xor", "mul"]), f"local.set {self.d()}")
        elif tail == 1:    # a dot-product step with the second value kept
            acc = self.d()
            self.emit(f"local.tee {self.d()}", "i32.mul", f"local.get {acc}", "i32.add",
                      f"local.set {acc}")
        elif tail == 2:    # the fused dot-product step
            acc = self.d()
            self.emit("i32.mul", f"local.get {acc}", "i32.add", f"local.set {acc}")
        elif tail == 3:    # both kept
            self.emit(f"local.set {self.d()}", f"local.set {self.d()}")
        else:              # the second kept, then an op reading an address
            self.emit(f"local.set {self.d()}", f"local.get {rng.choice([a2, a1, i])}",
                      f"local.get {self.d()}", "i32." + rng.choice(BINOPS + CMPS[:4]),
                      "i32.add", f"local.set {self.d()}")

    def scaled(self):
        rng = self.rng
        a, i = self.a(), self.a()
        kind = rng.randrange(3)
        if kind == 0:
            self.emit(f"(local.set {self.d()} (i32.load{rng.choice(OFFSETS)} (i32.add (local.get {a}) "
                      f"(i32.shl (local.get {i}) (i32.const 2)))))")
        elif kind == 1:    # pointer kept for a later store
            self.emit(f"(local.set {self.d()} (i32.load (local.tee {self.p()} (i32.add (local.get {a}) "
                      f"(i32.shl (local.get {i}) (i32.const 1))))))")
        else:              # table lookup indexed by a xor
            self.emit(f"(local.set {self.d()} (i32.load (i32.add (local.get {a}) (i32.shl "
                      f"(i32.xor (local.get {self.a()}) (local.get {i})) (i32.const 1)))))")

    def ptr_load(self):
        p = self.p()
        ld = self.rng.choice(["i32.load", "i32.load8_u"])
        self.emit(f"(local.set {self.d()} ({ld} (local.tee {p} (i32.add (local.get {self.a()}) "
                  f"(local.get {self.a()})))))")

    def arith(self):
        op = self.rng.choice(BINOPS + CMPS)
        self.emit(f"(local.set {self.d()} (i32.{op} {self.val()} {self.val()}))")

    def pair(self):
        first, second = self.rng.choice(PAIRS)
        inner = f"(i32.{first} {self.val()} {self.val()})"
        z = self.val()
        body = f"(i32.{second} {z} {inner})" if self.rng.random() < 0.5 else f"(i32.{second} {inner} {z})"
        if self.rng.random() < 0.2:   # the load forms: z + load(a)
            body = f"(i32.add {z} (i32.load (local.get {self.a()})))"
        self.emit(f"(local.set {self.d()} {body})")

    def sigma(self):
        x = self.d()
        last = self.rng.choice(["rotl", "shr_u"])
        self.emit(f"(local.set {self.d()} (i32.xor (i32.xor (i32.rotl (local.get {x}) (i32.const 7)) "
                  f"(i32.rotl (local.get {x}) (i32.const 18))) (i32.{last} (local.get {x}) (i32.const 3))))")

    def addr_update(self):
        op = self.rng.choice(["add", "xor", "mul", "sub"])
        self.set_addr(self.a(), f"(i32.{op} {self.val()} {self.val()})")

    def plain_load(self):
        src = self.a() if self.rng.random() < 0.7 else self.p()
        ld = self.rng.choice(LOADS) + self.rng.choice(OFFSETS)
        self.emit(f"(local.set {self.d()} ({ld} (local.get {src})))")

    def copies(self):
        pool = self.data if self.rng.random() < 0.7 else self.addr
        for _ in range(self.rng.randrange(1, 5)):
            self.emit(f"(local.set {self.rng.choice(pool)} (local.get {self.rng.choice(pool)}))")

    def store(self):
        rng = self.rng
        kind = rng.randrange(4)
        a, i = self.a(), self.a()
        if kind == 0:
            st = rng.choice(["i32.store", "i32.store8", "i32.store16"]) + rng.choice(OFFSETS)
            self.emit(f"({st} (i32.add (local.get {a}) (local.get {i})) {self.val()})")
        elif kind == 1:    # mem[a] = mem[a] + z
            self.emit(f"(i32.store (local.get {a}) (i32.add (i32.load (local.get {a})) {self.val()}))")
        elif kind == 2:    # mem[a] = z + x * y
            self.emit(f"(i32.store (local.get {a}) (i32.add {self.val()} (i32.mul {self.val()} {self.val()})))")
        else:              # s = u + i; mem[s] += mem[v + i] * k
            p = self.p()
            self.emit(f"(i32.store (local.tee {p} (i32.add (local.get {a}) (local.get {i}))) "
                      f"(i32.add (i32.load (local.get {p})) (i32.mul (i32.load (i32.add "
                      f"(local.get {self.a()}) (local.get {i}))) {self.val()})))")

    def branch(self, depth):
        rng = self.rng
        kind = rng.randrange(5)
        inner = Gen.__new__(Gen)
        inner.rng, inner.data, inner.addr, inner.ptr, inner.lines = rng, self.data, self.addr, self.ptr, []
        for _ in range(rng.randrange(1, 4)):
            inner.piece(depth + 1)
        body = " ".join(inner.lines)
        if kind == 0:
            cond = f"(i32.{rng.choice(CMPS)} {self.val()} {self.val()})"
            self.emit(f"(block (br_if 0 {cond}) {body})")
        elif kind == 1:
            self.emit(f"(block (br_if 0 (i32.eqz {self.val()})) {body})")
        elif kind == 2:
            d = self.d()
            self.emit(f"(block (br_if 0 (local.tee {d} (i32.add (local.get {d}) (i32.const -1)))) {body})")
        elif kind == 3:    # a loop tail's increments and compare, branching forward
            a1, a2, i = self.a(), self.a(), self.a()
            step = rng.choice(["(i32.const 1)", "(i32.const 4)", f"(local.get {self.a()})"])
            incs = [f"(local.set {i} (i32.add (local.get {i}) {step}))"]
            if rng.random() < 0.5:
                incs = [f"(local.set {a1} (i32.add (local.get {a1}) (i32.const 4)))",
                        f"(local.set {a2} (i32.add (local.get {a2}) (i32.const 8)))"] + incs
            cmp = f"(i32.{rng.choice(CMPS)} (local.get {i}) {self.val()})"
            if rng.random() < 0.5:
                cmp = f"(i32.{rng.choice(CMPS)} {self.val()} (local.get {i}))"
            masks = " ".join(f"(local.set {v} (i32.and (local.get {v}) (i32.const {MASK})))"
                             for v in (a1, a2, i))
            self.emit(f"(block {' '.join(incs)} (br_if 0 {cmp}) {masks} {body})", masks)
        else:
            other = Gen.__new__(Gen)
            other.rng, other.data, other.addr, other.ptr, other.lines = rng, self.data, self.addr, self.ptr, []
            other.piece(depth + 1)
            cond = f"(i32.{rng.choice(CMPS)} {self.val()} {self.val()})"
            self.emit(f"(if {cond} (then {body}) (else {' '.join(other.lines)}))")

    def piece(self, depth=0):
        shapes = [self.load_idx, self.two_loads, self.two_loads, self.two_loads, self.scaled,
                  self.ptr_load, self.arith, self.pair, self.sigma, self.addr_update,
                  self.plain_load, self.copies, self.store]
        if depth < 2 and self.rng.random() < 0.15:
            self.branch(depth)
        else:
            self.rng.choice(shapes)()

    def function(self):
        rng = self.rng
        for v in range(0x8000 >> 13):
            self.emit(f"(memory.copy (i32.const {v << 13}) (i32.const 0x8000) (i32.const 0x2000))")
        for v in self.data:
            self.emit(f"(local.set {v} (i32.add (i32.mul (local.get 0) (i32.const {rng.randrange(1, 1 << 31)})) "
                      f"(i32.const {rng.randrange(-(1 << 31), 1 << 31)})))")
        for v in self.addr + self.ptr:
            self.set_addr(v, f"(i32.add (i32.mul (local.get 0) (i32.const {rng.randrange(1, 1 << 16)})) "
                             f"(i32.const {rng.randrange(0, 1 << 16)}))")
        for _ in range(PIECES):
            self.piece()
        # the result: a hash of every local and of the work area
        self.emit("(local.set 0 (i32.const 0))", "(i32.const 0)")
        self.emit("(loop $h (param i32) (result i32)",
                  "  (i32.mul (i32.xor (i32.load (local.get 0))) (i32.const 16777619))",
                  "  (br_if $h (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 4))) (i32.const 0x8000))))")
        for v in range(1, NLOCALS):
            self.emit(f"(i32.add (i32.mul (i32.const 31)) (local.get {v}))")
        return "\n    ".join(self.lines)


def func_text(name, body):
    return (f'  (func (export "{name}") (param i32) (result i32) (local {" i32" * (NLOCALS - 1)})\n'
            f"    {body})\n")


def memory_text(rng):
    data = bytes(rng.randrange(256) for _ in range(0x2000))
    return '  (memory 1)\n  (data (i32.const 0x8000) "' + "".join(f"\\{b:02x}" for b in data) + '")\n'


def reference_results(mem, funcs):
    text = ["(module", mem]
    calls = []
    for i, (name, body) in enumerate(funcs):
        text.append(func_text(name, body))
    for i, (name, _) in enumerate(funcs):
        for a in ARGS:
            w = f"w{len(calls)}"
            calls.append((w, name, a))
            text.append(f'  (func (export "{w}") (result i32) (call {i} (i32.const {a})))')
    text.append(")")
    with tempfile.TemporaryDirectory() as tmp:
        wat, wasm = os.path.join(tmp, "f.wat"), os.path.join(tmp, "f.wasm")
        with open(wat, "w") as fh:
            fh.write("\n".join(text))
        subprocess.run(["wat2wasm", wat, "-o", wasm], check=True)
        out = subprocess.run(["wasm-interp", "--run-all-exports", wasm], check=True,
                             capture_output=True, text=True).stdout
    got = dict(re.findall(r"^(w\d+)\(\) => i32:(-?\d+)$", out, re.M))
    results = {}
    for w, name, a in calls:
        if w not in got:
            sys.exit(f"gen_fused: wasm-interp gave no result for {name}({a}):\n{out[-2000:]}")
        results[(name, a)] = int(got[w])
    return results


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rng = random.Random(seed)
    mem = memory_text(rng)
    funcs = [(f"f{i}", Gen(rng).function()) for i in range(NFUNCS)]
    results = reference_results(mem, funcs)
    out = [f";; GENERATED by tests/wasm/gen_fused.py {seed} -- do not edit; see that file.",
           ";; Random straight-line code from the shapes the compiler fuses; results",
           ";; from wabt's wasm-interp.", ""]
    for start in range(0, len(funcs), PER_MODULE):
        chunk = funcs[start:start + PER_MODULE]
        out.append("(module")
        out.append(mem)
        for name, body in chunk:
            out.append(func_text(name, body))
        out.append(")")
        for name, _ in chunk:
            for a in ARGS:
                out.append(f'(assert_return (invoke "{name}" (i32.const {a})) '
                           f"(i32.const {results[(name, a)]}))")
        out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
