;; An instantiation that traps (segment out of bounds, start function trap)
;; still leaves its effects in the store, including references to its own
;; functions put into imported tables and globals.  Calling those functions
;; afterwards must work (the engine once freed the instance: use after free).

(module $host
  (type $ret (func (result i32)))
  (table (export "tab") 4 funcref)
  (memory (export "mem") 1)
  (global (export "fn") (mut funcref) (ref.null func))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $ret) (local.get 0)))
  (func (export "call-global") (result i32)
    (table.set 0 (i32.const 3) (global.get 0))
    (call_indirect (type $ret) (i32.const 3)))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(register "host" $host)

;; Element segment 1 lands, segment 2 is out of bounds.
(assert_trap
  (module
    (import "host" "tab" (table 4 funcref))
    (func $seven (result i32) (i32.const 7))
    (elem (i32.const 0) $seven)
    (elem (i32.const 3) $seven $seven))
  "out of bounds table access")
(assert_return (invoke $host "call" (i32.const 0)) (i32.const 7))

;; Elements land, then a data segment is out of bounds.
(assert_trap
  (module
    (import "host" "tab" (table 4 funcref))
    (import "host" "mem" (memory 1))
    (func $eight (result i32) (i32.const 8))
    (elem (i32.const 1) $eight)
    (data (i32.const 0) "xy")
    (data (i32.const 65535) "zz"))
  "out of bounds memory access")
(assert_return (invoke $host "call" (i32.const 1)) (i32.const 8))
(assert_return (invoke $host "byte" (i32.const 1)) (i32.const 0x79))

;; All segments land, then the start function stores a function reference
;; into an imported global, writes memory through a helper, and traps.
(assert_trap
  (module
    (import "host" "tab" (table 4 funcref))
    (import "host" "fn" (global $g (mut funcref)))
    (import "host" "mem" (memory 1))
    (global $count (mut i32) (i32.const 40))
    (func $nine (result i32)
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (global.get $count))
    (func $start
      (global.set $g (ref.func $nine))
      (i32.store8 (i32.const 2) (i32.const 0x21))
      (unreachable))
    (elem (i32.const 2) $nine)
    (start $start))
  "unreachable")
(assert_return (invoke $host "call" (i32.const 2)) (i32.const 41))
(assert_return (invoke $host "call-global") (i32.const 42))
(assert_return (invoke $host "call" (i32.const 3)) (i32.const 43))
(assert_return (invoke $host "byte" (i32.const 2)) (i32.const 0x21))
