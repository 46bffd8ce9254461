;; acc.wast - the interpreter's accumulator (EW_ACC, src/wasm/internal.h): an
;; op whose operand is the result of the op right before it reads it from a
;; register.  Only right: when no jump target, call return or loop header
;; lies between the two.  Each function here puts a setter and a reader of
;; its result on both sides of such a point, with a branch that arrives
;; there with another value in the register.

(module
  (func $three (result i32) (i32.const 3))
  ;; a block end: the branch arrives with the register holding something else
  (func (export "after_block") (param i32) (result i32) (local i32)
    (local.set 1 (i32.const 5))
    (block
      (br_if 0 (i32.xor (local.get 0) (i32.const 0x100)))
      (local.set 1 (i32.mul (local.get 1) (i32.const 3))))
    (i32.add (local.get 1) (i32.const 1)))
  ;; a loop header: the reader at the top uses the value from the end of the
  ;; body, the first time the one from before the loop
  (func (export "loop_head") (param i32) (result i32) (local i32 i32)
    (local.set 1 (i32.const 7))
    (local.set 2 (i32.const 0))
    (loop $l
      (local.set 2 (i32.add (local.get 2) (local.get 1)))
      (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 2))
  ;; if/else joins and br_table targets
  (func (export "join") (param i32) (result i32) (local i32)
    (local.set 1 (i32.shl (local.get 0) (i32.const 4)))
    (if (i32.and (local.get 0) (i32.const 1))
      (then (local.set 1 (i32.or (local.get 1) (i32.const 1))))
      (else (local.set 1 (i32.xor (local.get 1) (i32.const 2)))))
    (i32.sub (local.get 1) (i32.const 1)))
  (func (export "table") (param i32) (result i32) (local i32)
    (local.set 1 (i32.add (local.get 0) (i32.const 100)))
    (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 (local.get 0)))
      (local.set 1 (i32.mul (local.get 1) (i32.const 2))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1000))))
    (i32.add (local.get 1) (i32.const 7)))
  ;; after a call the register holds nothing of ours
  (func (export "after_call") (param i32) (result i32) (local i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 9)))
    (i32.add (call $three) (local.get 1)))
  ;; long dependent chains (the case the register is for), through loads,
  ;; stores, compares and a fused compare-and-branch
  (memory 1)
  (func (export "chain") (param i32) (result i32) (local i32)
    (i32.store (i32.const 8) (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.const 5)))
    (local.set 1 (i32.load (i32.const 8)))
    (local.set 1 (i32.xor (i32.rotl (local.get 1) (i32.const 5)) (i32.const 0x55)))
    (i32.store8 (i32.const 16) (local.get 1))
    (local.set 1 (i32.add (local.get 1) (i32.load8_u (i32.const 16))))
    (if (i32.lt_u (local.get 1) (i32.const 1000)) (then (return (i32.const -1))))
    (i32.eqz (i32.and (local.get 1) (i32.const 1))))
  (func (export "crc") (param i32) (result i32) (local i32)
    (local.set 1 (i32.const -1))
    (loop $l
      (local.set 1 (i32.xor (i32.shr_u (local.get 1) (i32.const 1))
                            (i32.and (i32.const 0xedb88320)
                                     (i32.sub (i32.const 0) (i32.and (local.get 1) (i32.const 1))))))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 1))
)

(assert_return (invoke "after_block" (i32.const 0)) (i32.const 6))
(assert_return (invoke "after_block" (i32.const 0x100)) (i32.const 16))
(assert_return (invoke "loop_head" (i32.const 1)) (i32.const 7))
(assert_return (invoke "loop_head" (i32.const 3)) (i32.const 18))
(assert_return (invoke "join" (i32.const 3)) (i32.const 48))
(assert_return (invoke "join" (i32.const 4)) (i32.const 65))
(assert_return (invoke "table" (i32.const 0)) (i32.const 1207))
(assert_return (invoke "table" (i32.const 1)) (i32.const 1108))
(assert_return (invoke "table" (i32.const 2)) (i32.const 109))
(assert_return (invoke "table" (i32.const 9)) (i32.const 116))
(assert_return (invoke "after_call" (i32.const 2)) (i32.const 21))
(assert_return (invoke "chain" (i32.const 1)) (i32.const -1))
(assert_return (invoke "chain" (i32.const 1000)) (i32.const 1))
(assert_return (invoke "chain" (i32.const 1001)) (i32.const 1))
(assert_return (invoke "crc" (i32.const 8)) (i32.const 771559538))
(assert_return (invoke "crc" (i32.const 100)) (i32.const 138584985))

;; A fusion that cuts ops off the end of the code must drop what was noted
;; about them.  Two indexed loads in a row become one op (I32_LOAD_ADD_X2)
;; that absorbs the second address's i32.add; its noted position then lies
;; inside the new op, on the word that holds the second load's destination.
;; With that destination retargeted to local 4 (`local.set 4`) the word reads
;; as opcode I32_LT_U, a 4-word setter "writing" the next word (the second
;; address's base, local 1), so the i32.load of local 1 right after took its
;; address from the register instead: a wrong value, or out of bounds when
;; the register holds a large number (the CONV_2D kernel of src/infer under
;; clang -O1/-O2/-Os trapped this way).  One function per load kind.
(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00\05\00\00\00")
  (func (export "x2_load") (param i32 i32 i32 i32) (result i32) (local i32 i32)
    (local.set 5 (i32.or (local.get 3) (i32.const 8)))   ;; leaves p3|8 in the register
    (i32.load (i32.add (local.get 0) (local.get 2)))
    (local.set 4 (i32.load (i32.add (local.get 1) (local.get 2))))
    (i32.sub (i32.load (local.get 1)))
    (i32.add (local.get 4)))
  (func (export "x2_load8_s") (param i32 i32 i32 i32) (result i32) (local i32 i32)
    (local.set 5 (i32.or (local.get 3) (i32.const 8)))
    (i32.load8_s (i32.add (local.get 0) (local.get 2)))
    (local.set 4 (i32.load8_s (i32.add (local.get 1) (local.get 2))))
    (i32.sub (i32.load (local.get 1)))
    (i32.add (local.get 4)))
  (func (export "x2_load8_u") (param i32 i32 i32 i32) (result i32) (local i32 i32)
    (local.set 5 (i32.or (local.get 3) (i32.const 8)))
    (i32.load8_u (i32.add (local.get 0) (local.get 2)))
    (local.set 4 (i32.load8_u (i32.add (local.get 1) (local.get 2))))
    (i32.sub (i32.load (local.get 1)))
    (i32.add (local.get 4)))
)

(assert_return (invoke "x2_load" (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 0)) (i32.const 3))
(assert_return (invoke "x2_load" (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 0x10000)) (i32.const 3))
(assert_return (invoke "x2_load8_s" (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 0)) (i32.const 3))
(assert_return (invoke "x2_load8_s" (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 0x10000)) (i32.const 3))
(assert_return (invoke "x2_load8_u" (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 0)) (i32.const 3))
(assert_return (invoke "x2_load8_u" (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 0x10000)) (i32.const 3))

;; The same for a noted pair: the loop-tail fusion (two increments, `i += step`
;; and the compare, ADD3_BR_*) cuts off the add and the compare that read it,
;; a (reader, setter) pair the accumulator had noted.  In the fused op the
;; noted positions hold the add's destination (local 44: I32_AND as an
;; opcode, a 4-word setter) and the compare's second operand (local 44 again,
;; I32_AND as a reader); with an i32.and next, whose opcode word equals the
;; add's first operand (44), the pair checked out and the compare operand
;; was overwritten with I32_AND_A: the branch went the wrong way.
(module
  (func (export "add3_tail") (param i32 i32) (result i32)
    (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32
           i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32
           i32 i32 i32 i32)
    (local.set 44 (local.get 0))
    (local.set 7 (i32.const 0x70))
    (local.set 8 (i32.const 0x0f))
    (block
      (local.set 2 (i32.add (local.get 2) (i32.const 4)))
      (local.set 3 (i32.add (local.get 3) (i32.const 8)))
      (local.set 44 (i32.add (local.get 44) (local.get 1)))
      (br_if 0 (i32.gt_s (local.get 5) (local.get 44)))
      (local.set 6 (i32.and (local.get 7) (local.get 8)))
      (local.set 9 (i32.const 1000)))
    (i32.add (i32.add (local.get 9) (local.get 6))
             (i32.add (local.get 44) (i32.add (local.get 2) (local.get 3)))))
)

(assert_return (invoke "add3_tail" (i32.const -5) (i32.const 1)) (i32.const 8))
(assert_return (invoke "add3_tail" (i32.const 5) (i32.const 1)) (i32.const 1018))
(assert_return (invoke "add3_tail" (i32.const -1) (i32.const 1)) (i32.const 1012))
(assert_return (invoke "add3_tail" (i32.const -2) (i32.const 1)) (i32.const 11))
