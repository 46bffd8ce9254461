;; each trap kind, selected by the argument
(module
  (memory 1)
  (table 1 funcref)
  (type $v (func))
  (func (export "run") (param i32) (result i32)
    (block $b3 (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 $b3 (local.get 0)))
      (return (i32.div_u (i32.const 1) (local.get 0))))
      (return (i32.load (i32.const 65536))))
      (call_indirect (type $v) (i32.const 0)) (return (i32.const 0)))
    (i32.trunc_f32_s (f32.const nan))))
