;; an infinite loop and unbounded recursion: fuel and stack limits stop them
(module
  (func $rec (param i32) (result i32) (call $rec (i32.add (local.get 0) (i32.const 1))))
  (func (export "run") (param i32) (result i32)
    (if (local.get 0) (then (return (call $rec (i32.const 0)))))
    (loop $l (br $l))
    (i32.const 0)))
