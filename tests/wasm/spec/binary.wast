;; Hostile and malformed binaries: header, LEB128 length/overflow bounds,
;; section order/size, UTF-8 names, counts, locals, data count, and
;; truncated bodies; plus valid edge cases that must be accepted.
(module binary "\00asm" "\01\00\00\00")
(assert_malformed (module binary "") "unexpected end")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module binary "asm\00" "\01\00\00\00") "magic header not detected")
(assert_malformed (module binary "\00asm" "\02\00\00\00") "unknown binary version")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\0d\00") "malformed section id")
;; section size larger than the module
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\05\00") "length out of bounds")
;; section size smaller than its contents
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\01\01\60\00\00") "section size mismatch")
;; type section twice / out of order
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\01\00" "\01\01\00") "unexpected content after last section")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\03\01\00" "\01\01\00") "unexpected content after last section")
;; custom sections anywhere, with a valid UTF-8 name
(module binary "\00asm" "\01\00\00\00" "\00\05\04abcd" "\01\01\00" "\00\04\03\e2\82\ac")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\00\02\01\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\00\04\03\ed\a0\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\00\03\02\c0\80") "malformed UTF-8 encoding")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\00\05\04\f4\90\80\80") "malformed UTF-8 encoding")
;; LEB128: a u32 with 5 bytes is fine, 6 bytes too long, unused bits set
(module binary "\00asm" "\01\00\00\00" "\01\84\80\80\80\00\01\60\00\00")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\86\80\80\80\80\00\01\60\00\00") "integer representation too long")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\05\81\80\80\80\10\60\00\00") "integer too large")
;; memory limits: min with unused high bits
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\05\07\01\00\82\80\80\80\70") "integer too large")
;; i32.const with a signed LEB whose unused bits disagree with the sign
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\05\01\60\00\01\7f" "\03\02\01\00"
    "\0a\0a\01\08\00\41\ff\ff\ff\ff\4f\0b")
  "integer too large")
(module binary "\00asm" "\01\00\00\00" "\01\05\01\60\00\01\7f" "\03\02\01\00"
  "\0a\0a\01\08\00\41\ff\ff\ff\ff\7f\0b")
;; i64.const 10-byte LEB with bad top bits
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\05\01\60\00\01\7e" "\03\02\01\00"
    "\0a\0f\01\0d\00\42\80\80\80\80\80\80\80\80\80\02\0b")
  "integer too large")
;; vector count beyond the section
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\02\ff\01") "length out of bounds")
;; function and code section counts differ
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00") "function and code section have inconsistent lengths")
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\01\00")
  "function and code section have inconsistent lengths")
;; too many locals
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
    "\0a\10\01\0e\02\ff\ff\ff\ff\0f\7f\ff\ff\ff\ff\0f\7e\0b")
  "too many locals")
;; function body that does not end
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\04\01\02\00\01")
  "unexpected end")
;; body shorter than its declared size (junk after end)
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\05\01\03\00\0b\01")
  "section size mismatch")
;; illegal opcode
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\0a\05\01\03\00\ff\0b")
  "illegal opcode")
;; memory.size reserved byte
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
    "\0a\07\01\05\00\3f\01\1a\0b")
  "zero byte expected")
;; memory.init without a data count section
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
    "\0a\0e\01\0c\00\41\00\41\00\41\00\fc\08\00\00\0b" "\0b\03\01\01\00")
  "data count section required")
;; data count disagrees with the data section
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\05\03\01\00\01" "\0c\01\02" "\0b\03\01\01\00")
  "data count and data section have inconsistent lengths")
;; malformed import kind / mutability / value type / reference type
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\02\06\01\01a\01b\05") "malformed import kind")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\06\06\01\7f\02\41\00\0b") "malformed mutability")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\01\05\01\60\01\40\00") "malformed value type")
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\04\04\01\71\00\01") "malformed reference type")
;; element segment flags out of range
(assert_malformed (module binary "\00asm" "\01\00\00\00" "\09\02\01\08") "malformed elements segment kind")
;; deep nesting is fine
(module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
  "\0a\22\01\20\00"
  "\02\40\02\40\02\40\02\40\02\40\02\40\02\40\02\40\02\40\02\40"
  "\0b\0b\0b\0b\0b\0b\0b\0b\0b\0b\0b")
;; invalid (not malformed): unknown type index, multiple memories
(assert_invalid (module binary "\00asm" "\01\00\00\00" "\03\02\01\00" "\0a\04\01\02\00\0b") "unknown type")
(assert_invalid (module (memory 1) (memory 1)) "multiple memories")
(assert_invalid (module binary "\00asm" "\01\00\00\00" "\02\0f\02\01a\01b\02\00\00\01c\01d\02\00\00") "multiple memories")
;; Invalid early (a block whose type index does not exist) and malformed
;; further on (the body ends inside the blocks): the spec decodes the whole
;; body before validating it, so this is malformed.  (A br_table that
;; declares 1 target and gives 2: the extra byte reads as `block 11`.)
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
    "\0a\13\01" "\11\00" "\02\40" "\41\01" "\04\40" "\41\01" "\0e\01\00\01\02" "\0b\0b\0b")
  "unexpected end")
;; invalid only: the same without the extra target decodes fine
(assert_invalid
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
    "\0a\11\01" "\0f\00" "\02\40" "\41\01" "\04\40" "\41\01" "\0e\00\05" "\0b\0b\0b")
  "unknown label")
;; invalid (local 5 does not exist), then a byte that is no instruction:
;; malformed
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00"
    "\0a\07\01" "\05\00" "\20\05" "\ff" "\0b")
  "illegal opcode")
;; A memarg alignment exponent of 32 or more does not decode ("malformed
;; memop flags", as the official align.wast of WebAssembly 2.0 has it); 31
;; decodes and is invalid (larger than natural).  Also when the body was
;; invalid before it (local 5 does not exist).
(assert_invalid
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
    "\0a\0a\01" "\08\00" "\41\00" "\28\1f\00" "\1a" "\0b")
  "alignment must not be larger than natural")
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
    "\0a\0a\01" "\08\00" "\41\00" "\28\20\00" "\1a" "\0b")
  "malformed memop flags")
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
    "\0a\0a\01" "\08\00" "\41\00" "\36\40\00" "\1a" "\0b")
  "malformed memop flags")
(assert_malformed
  (module binary "\00asm" "\01\00\00\00" "\01\04\01\60\00\00" "\03\02\01\00" "\05\03\01\00\01"
    "\0a\0c\01" "\0a\00" "\20\05" "\41\00" "\28\21\00" "\1a" "\0b")
  "malformed memop flags")
