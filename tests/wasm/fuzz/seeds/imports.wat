;; imports of every kind and a start function
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "mem" (memory 1))
  (import "env" "tab" (table 2 funcref))
  (import "env" "g" (global $g (mut i32)))
  (global $s (mut i32) (i32.const 0))
  (func $start (global.set $s (call $f (i32.const 3))))
  (start $start)
  (func (export "run") (result i32)
    (global.set $g (i32.const 1))
    (i32.store (i32.const 0) (global.get $s))
    (i32.add (i32.load (i32.const 0)) (table.size 0))))
