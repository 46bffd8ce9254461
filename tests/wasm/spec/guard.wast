;; guard.wast - memory bounds across instances whose memories are checked
;; differently.  With guarded memories (the default of `edgecr wasm spectest`
;; on 64-bit Linux) a module's own memory is guarded, while the spectest
;; host's memory (imported by $Host below) is always checked: calls and
;; returns between the two switch between the interpreter's two loops, and an
;; out-of-bounds access traps in either.  Run with --bounds-checks too.

(module $Host
  (import "spectest" "memory" (memory 1 2))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
(register "host" $Host)

(module $Own
  (import "host" "load" (func $hload (param i32) (result i32)))
  (import "host" "store" (func $hstore (param i32 i32)))
  (memory 1 3)
  (func $load (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_far") (param i32) (result i32) (i32.load offset=0xffffffff (local.get 0)))
  (func (export "store64") (param i32) (i64.store (local.get 0) (i64.const -1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  ;; own load, host load, own load again: the run goes guarded -> checked
  ;; (the call) -> guarded (the return), and must stay right
  (func (export "both") (param i32 i32) (result i32)
    (i32.add (i32.add (call $load (local.get 0)) (call $hload (local.get 1)))
             (call $load (local.get 0))))
  ;; a copy loop between the two memories, one word per iteration
  (func (export "copy_from_host") (param $src i32) (param $dst i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store (local.get $dst) (call $hload (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))
  (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $s))
)

(invoke $Host "store" (i32.const 100) (i32.const 7))
(invoke $Host "store" (i32.const 104) (i32.const 8))
(invoke $Host "store" (i32.const 108) (i32.const 9))
(assert_return (invoke $Own "both" (i32.const 0) (i32.const 100)) (i32.const 7))
(invoke $Own "copy_from_host" (i32.const 100) (i32.const 65524) (i32.const 3))
(assert_return (invoke $Own "sum" (i32.const 65524) (i32.const 3)) (i32.const 24))
(assert_return (invoke $Own "load" (i32.const 65532)) (i32.const 9))

;; out of bounds in the own memory, at and past the end, the far offset
(assert_trap (invoke $Own "load" (i32.const 65533)) "out of bounds memory access")
(assert_trap (invoke $Own "load" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke $Own "load" (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke $Own "load_far" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke $Own "load_far" (i32.const -1)) "out of bounds memory access")
;; a straddling store writes nothing
(assert_trap (invoke $Own "store64" (i32.const 65532)) "out of bounds memory access")
(assert_return (invoke $Own "load" (i32.const 65532)) (i32.const 9))
;; a loop that walks off the end traps in the middle
(assert_trap (invoke $Own "sum" (i32.const 65524) (i32.const 4)) "out of bounds memory access")
;; out of bounds in the host's memory, reached through the own module
(assert_trap (invoke $Own "both" (i32.const 0) (i32.const 65533)) "out of bounds memory access")
(invoke $Host "store" (i32.const 65528) (i32.const 5))
(invoke $Host "store" (i32.const 65532) (i32.const 6))
(assert_trap (invoke $Own "copy_from_host" (i32.const 65528) (i32.const 0) (i32.const 3)) "out of bounds memory access")
;; the partial copy before the trap happened (two words)
(assert_return (invoke $Own "sum" (i32.const 0) (i32.const 2)) (i32.const 11))
;; growing: the end moves, in both memories
(assert_return (invoke $Own "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke $Own "load" (i32.const 65536)) (i32.const 0))
(assert_return (invoke $Own "load" (i32.const 131068)) (i32.const 0))
(assert_trap (invoke $Own "load" (i32.const 131069)) "out of bounds memory access")
(assert_return (invoke $Host "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke $Own "both" (i32.const 131068) (i32.const 131068)) (i32.const 0))
(assert_trap (invoke $Own "both" (i32.const 131072) (i32.const 0)) "out of bounds memory access")
;; still usable after all the traps
(assert_return (invoke $Own "sum" (i32.const 65524) (i32.const 3)) (i32.const 24))
