;; direct/indirect calls, tables, element segments, recursion, br_table
(module
  (type $t (func (param i32) (result i32)))
  (table $tab 4 funcref)
  (elem (i32.const 0) $inc $dbl $fact)
  (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $fact (type $t)
    (if (result i32) (i32.le_s (local.get 0) (i32.const 1))
      (then (i32.const 1))
      (else (i32.mul (local.get 0) (call $fact (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "run") (param $x i32) (result i32)
    (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 (i32.and (local.get $x) (i32.const 3))))
      (return (call_indirect (type $t) (i32.const 5) (i32.const 0))))
      (return (call_indirect (type $t) (i32.const 5) (i32.const 1))))
    (call_indirect (type $t) (i32.const 6) (i32.const 2))))
