;; integer/float arithmetic, conversions, sign extension, saturating truncation
(module
  (func (export "run") (result i64)
    (local $i i32) (local $acc i64) (local $f f64)
    (local.set $i (i32.const 50))
    (loop $l
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_s (i32.div_s (i32.mul (local.get $i) (i32.const 7)) (i32.const 3)))))
      (local.set $f (f64.add (local.get $f) (f64.sqrt (f64.convert_i32_s (local.get $i)))))
      (local.set $acc (i64.xor (local.get $acc) (i64.extend8_s (i64.trunc_sat_f64_s (local.get $f)))))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $i) (i32.const 0))))
    (i64.add (local.get $acc) (i64.reinterpret_f64 (f64.nearest (local.get $f))))))
