"""Test models for the inference library (src/infer), written as TFLite
flatbuffers with python3-flatbuffers' Builder by the field numbers of
TensorFlow Lite's schema.fbs (no TensorFlow here).  Weights are random from
fixed seeds, so every run builds the same bytes.

    python3 tests/infer/gen_models.py OUTDIR   # writes NAME.tflite + NAME.in.npy

MODELS maps a name to a function returning a Model; Model.build() gives the
bytes and Model.example_input() an input.  The hostile-model tests build
variants through the same class (see `overrides`).
"""
import struct
import sys
from pathlib import Path

import flatbuffers
import numpy as np

FLOAT32, INT32, INT8 = 0, 2, 9
ADD, AVERAGE_POOL_2D, CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE = 0, 1, 3, 4, 6
FULLY_CONNECTED, LOGISTIC, MAX_POOL_2D, MUL, RESHAPE, SOFTMAX, QUANTIZE = 9, 14, 17, 18, 22, 25, 114
# BuiltinOptions union tags
OPT_CONV, OPT_DW, OPT_POOL, OPT_FC, OPT_SOFTMAX, OPT_ADD, OPT_RESHAPE, OPT_MUL = 1, 2, 5, 8, 9, 11, 17, 21
SAME, VALID = 0, 1
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3


class Tensor:
    def __init__(self, shape, ttype, scale=None, zp=None, data=None, qdim=0, name="t"):
        self.shape, self.type, self.scale, self.zp = list(shape), ttype, scale, zp
        self.data, self.qdim, self.name = data, qdim, name


class Model:
    def __init__(self):
        self.tensors, self.ops, self.inputs, self.outputs = [], [], [], []

    def t(self, shape, ttype=INT8, scale=None, zp=0, data=None, qdim=0):
        if ttype == INT8 and scale is None:
            raise ValueError("int8 tensor needs a scale")
        self.tensors.append(Tensor(shape, ttype, scale, zp, data, qdim, f"t{len(self.tensors)}"))
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, opt_type=0, opts=()):
        """opts: (slot, 'b'|'i'|'f', value) of the builtin options table"""
        self.ops.append((code, list(inputs), list(outputs), opt_type, list(opts)))

    # ---- flatbuffer writing ------------------------------------------
    @staticmethod
    def _ivec(b, vals, size=4, fmt="i"):
        b.StartVector(size, len(vals), size)
        for v in reversed(vals):
            {"i": b.PrependInt32, "q": b.PrependInt64, "f": b.PrependFloat32, "B": b.PrependUint8}[fmt](v)
        return b.EndVector()

    def _quant(self, b, t):
        if t.scale is None:
            return None
        scales = list(np.atleast_1d(np.asarray(t.scale, dtype=np.float32)))
        zps = list(np.atleast_1d(np.asarray(t.zp, dtype=np.int64)))
        sv = self._ivec(b, [float(s) for s in scales], 4, "f")
        zv = self._ivec(b, [int(z) for z in zps], 8, "q")
        b.StartObject(7)
        b.PrependUOffsetTRelativeSlot(2, sv, 0)
        b.PrependUOffsetTRelativeSlot(3, zv, 0)
        b.PrependInt32Slot(6, t.qdim, 0)
        return b.EndObject()

    def _tensor(self, b, t, buf_idx):
        name = b.CreateString(t.name)
        shape = self._ivec(b, t.shape)
        q = self._quant(b, t)
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        b.PrependInt8Slot(1, t.type, 0)
        b.PrependUint32Slot(2, buf_idx, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if q is not None:
            b.PrependUOffsetTRelativeSlot(4, q, 0)
        return b.EndObject()

    def _options(self, b, opts):
        b.StartObject(max([s for s, _, _ in opts], default=0) + 1)
        for slot, kind, v in opts:
            {"b": b.PrependInt8Slot, "i": b.PrependInt32Slot, "f": b.PrependFloat32Slot}[kind](slot, v, 0 if kind != "f" else 0.0)
        return b.EndObject()

    def build(self):
        b = flatbuffers.Builder(1024)
        codes = sorted({op[0] for op in self.ops})
        # buffers: 0 is the empty sentinel, then one per constant tensor
        buf_data, buf_idx = [b""], []
        for t in self.tensors:
            if t.data is None:
                buf_idx.append(0)
            else:
                buf_idx.append(len(buf_data))
                buf_data.append(np.ascontiguousarray(t.data).tobytes())
        buffers = []
        for d in buf_data:
            dv = None
            if d:
                b.StartVector(1, len(d), 16)
                b.head = b.head - len(d)  # as CreateByteVector, but 16-aligned
                b.Bytes[b.head:b.head + len(d)] = d
                dv = b.EndVector()
            b.StartObject(3)
            if dv is not None:
                b.PrependUOffsetTRelativeSlot(0, dv, 0)
            buffers.append(b.EndObject())
        tens = [self._tensor(b, t, buf_idx[i]) for i, t in enumerate(self.tensors)]
        ops = []
        for code, ins, outs, otype, opts in self.ops:
            iv, ov = self._ivec(b, ins), self._ivec(b, outs)
            ot = self._options(b, opts) if otype else None
            b.StartObject(9)
            b.PrependUint32Slot(0, codes.index(code), 0)
            b.PrependUOffsetTRelativeSlot(1, iv, 0)
            b.PrependUOffsetTRelativeSlot(2, ov, 0)
            if ot is not None:
                b.PrependUint8Slot(3, otype, 0)
                b.PrependUOffsetTRelativeSlot(4, ot, 0)
            ops.append(b.EndObject())
        oc = []
        for c in codes:
            b.StartObject(4)
            b.PrependInt8Slot(0, min(c, 127), 0)
            b.PrependInt32Slot(2, 1, 1)
            b.PrependInt32Slot(3, c, 0)
            oc.append(b.EndObject())

        def tvec(items):
            b.StartVector(4, len(items), 4)
            for x in reversed(items):
                b.PrependUOffsetTRelative(x)
            return b.EndVector()

        tv, opv = tvec(tens), tvec(ops)
        inv, outv = self._ivec(b, self.inputs), self._ivec(b, self.outputs)
        name = b.CreateString("main")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, tv, 0)
        b.PrependUOffsetTRelativeSlot(1, inv, 0)
        b.PrependUOffsetTRelativeSlot(2, outv, 0)
        b.PrependUOffsetTRelativeSlot(3, opv, 0)
        b.PrependUOffsetTRelativeSlot(4, name, 0)
        sg = b.EndObject()
        sgv, ocv, bv = tvec([sg]), tvec(oc), tvec(buffers)
        desc = b.CreateString("edgecr test model")
        b.StartObject(5)
        b.PrependUint32Slot(0, 3, 0)
        b.PrependUOffsetTRelativeSlot(1, ocv, 0)
        b.PrependUOffsetTRelativeSlot(2, sgv, 0)
        b.PrependUOffsetTRelativeSlot(3, desc, 0)
        b.PrependUOffsetTRelativeSlot(4, bv, 0)
        root = b.EndObject()
        b.Finish(root, file_identifier=b"TFL3")
        return bytes(b.Output())

    def example_input(self, seed=7):
        rng = np.random.default_rng(seed)
        parts = []
        for i in self.inputs:
            t = self.tensors[i]
            if t.type == FLOAT32:
                parts.append(rng.uniform(-3, 3, size=t.shape).astype(np.float32))
            else:
                parts.append(rng.integers(-128, 128, size=t.shape, dtype=np.int8))
        return parts


# ---- weights -------------------------------------------------------------
def weights(rng, shape, lo=-127, hi=127):
    return rng.integers(lo, hi + 1, size=shape, dtype=np.int8)


def bias(rng, n, in_scale, w_scale, spread=2000):
    # one bias scale per weight scale (Arm NN checks the counts match)
    s = np.atleast_1d(np.float64(in_scale) * np.asarray(w_scale, np.float64)).astype(np.float32)
    return rng.integers(-spread, spread + 1, size=n).astype(np.int32), s


def fc(m, rng, x, units, out_scale, out_zp, act=NONE, w_scale=0.02):
    xt = m.tensors[x]
    depth = xt.shape[-1]
    w = m.t([units, depth], INT8, w_scale, 0, weights(rng, (units, depth)))
    bv, bs = bias(rng, units, xt.scale, w_scale)
    bt = m.t([units], INT32, list(bs), [0] * len(bs), bv)
    batches = int(np.prod(xt.shape)) // depth
    y = m.t([batches, units], INT8, out_scale, out_zp)
    m.op(FULLY_CONNECTED, [x, w, bt], [y], OPT_FC, [(0, "b", act)])
    return y


def out_size(n, k, stride, dil, pad):
    eff = (k - 1) * dil + 1
    return (n + stride - 1) // stride if pad == SAME else (n - eff + stride) // stride


def conv(m, rng, x, oc, k, stride=(1, 1), dil=(1, 1), pad=SAME, act=NONE, out_scale=0.2, out_zp=0,
         per_channel=True, depthwise=False, mult=1):
    xt = m.tensors[x]
    n, h, w_, c = xt.shape
    kh, kw = k
    if depthwise:
        oc = c * mult
        wshape = [1, kh, kw, oc]
    else:
        wshape = [oc, kh, kw, c]
    ws = (rng.uniform(0.005, 0.05, size=oc).astype(np.float32) if per_channel else np.float32(0.02))
    wt = m.t(wshape, INT8, list(ws) if per_channel else float(ws), [0] * oc if per_channel else 0,
             weights(rng, wshape), qdim=3 if depthwise else 0)
    bv, bs = bias(rng, oc, xt.scale, ws)
    bt = m.t([oc], INT32, list(bs), [0] * len(bs), bv)
    oh, ow = out_size(h, kh, stride[0], dil[0], pad), out_size(w_, kw, stride[1], dil[1], pad)
    y = m.t([n, oh, ow, oc], INT8, out_scale, out_zp)
    if depthwise:
        opts = [(0, "b", pad), (1, "i", stride[1]), (2, "i", stride[0]), (3, "i", mult), (4, "b", act),
                (5, "i", dil[1]), (6, "i", dil[0])]
        m.op(DEPTHWISE_CONV_2D, [x, wt, bt], [y], OPT_DW, opts)
    else:
        opts = [(0, "b", pad), (1, "i", stride[1]), (2, "i", stride[0]), (3, "b", act),
                (4, "i", dil[1]), (5, "i", dil[0])]
        m.op(CONV_2D, [x, wt, bt], [y], OPT_CONV, opts)
    return y


def pool(m, x, code, k, stride, pad=VALID, act=NONE):
    xt = m.tensors[x]
    n, h, w_, c = xt.shape
    oh, ow = out_size(h, k[0], stride[0], 1, pad), out_size(w_, k[1], stride[1], 1, pad)
    y = m.t([n, oh, ow, c], INT8, xt.scale, xt.zp)
    m.op(code, [x], [y], OPT_POOL, [(0, "b", pad), (1, "i", stride[1]), (2, "i", stride[0]),
                                    (3, "i", k[1]), (4, "i", k[0]), (5, "b", act)])
    return y


def single_input(shape, scale, zp, ttype=INT8):
    m = Model()
    x = m.t(shape, ttype, scale, zp if scale is not None else None)
    m.inputs = [x]
    return m, x


# ---- the catalogue ----------------------------------------------------------
def fc_basic():
    m, x = single_input([2, 10], 0.05, 3)
    m.outputs = [fc(m, np.random.default_rng(1), x, 7, 0.1, -5)]
    return m


def fc_relu6_zp_ends():
    # input zero point at the bottom of the range, output at the top: RELU6
    # then clamps to [127, 127 + 6/scale] -> saturates at 127
    m, x = single_input([3, 17], 0.03, -128)
    m.outputs = [fc(m, np.random.default_rng(2), x, 5, 0.05, 127, RELU6)]
    return m


def fc_saturate():
    m, x = single_input([1, 33], 0.5, 0)
    m.outputs = [fc(m, np.random.default_rng(3), x, 9, 0.01, -128, RELU)]
    return m


def conv_same_stride2():
    m, x = single_input([1, 9, 7, 3], 0.04, -10)
    m.outputs = [conv(m, np.random.default_rng(4), x, 4, (3, 3), (2, 2), act=RELU, out_scale=0.3, out_zp=-100)]
    return m


def conv_valid_dil2():
    m, x = single_input([1, 10, 11, 2], 0.02, 5)
    m.outputs = [conv(m, np.random.default_rng(5), x, 3, (3, 3), (1, 1), (2, 2), VALID, out_scale=0.1, out_zp=7)]
    return m


def conv_odd_strides_per_tensor():
    m, x = single_input([2, 5, 5, 1], 0.1, 127)
    m.outputs = [conv(m, np.random.default_rng(6), x, 2, (5, 3), (1, 3), act=RELU6, out_scale=0.05,
                      out_zp=-128, per_channel=False)]
    return m


def dw_same_mult2():
    m, x = single_input([1, 8, 8, 3], 0.05, 0)
    m.outputs = [conv(m, np.random.default_rng(7), x, 0, (3, 3), act=RELU6, out_scale=0.08, out_zp=-128,
                      depthwise=True, mult=2)]
    return m


def dw_valid_dil_stride():
    m, x = single_input([1, 9, 9, 4], 0.03, -20)
    m.outputs = [conv(m, np.random.default_rng(8), x, 0, (3, 3), (2, 2), (2, 2), VALID, out_scale=0.04,
                      out_zp=10, depthwise=True)]
    return m


def maxpool_same():
    m, x = single_input([1, 7, 9, 3], 0.1, -3)
    m.outputs = [pool(m, x, MAX_POOL_2D, (3, 3), (2, 2), SAME, RELU)]
    return m


def avgpool_valid():
    m, x = single_input([2, 6, 5, 4], 0.1, 2)
    m.outputs = [pool(m, x, AVERAGE_POOL_2D, (2, 2), (2, 1), VALID)]
    return m


def avgpool_same_edges():
    m, x = single_input([1, 5, 5, 2], 0.1, -128)
    m.outputs = [pool(m, x, AVERAGE_POOL_2D, (3, 3), (1, 1), SAME)]
    return m


def binary(code, shape_b, act=NONE, scales=(0.05, 0.08, 0.1), zps=(3, -7, 1)):
    m = Model()
    a = m.t([1, 4, 4, 3], INT8, scales[0], zps[0])
    bt = m.t(shape_b, INT8, scales[1], zps[1])
    y = m.t([1, 4, 4, 3], INT8, scales[2], zps[2])
    m.op(code, [a, bt], [y], OPT_ADD if code == ADD else OPT_MUL, [(0, "b", act)])
    m.inputs, m.outputs = [a, bt], [y]
    return m


def reshape():
    m, x = single_input([1, 3, 4, 2], 0.1, 5)
    s = m.t([2], INT32, None, None, np.array([4, 6], np.int32))
    y = m.t([4, 6], INT8, 0.1, 5)
    m.op(RESHAPE, [x, s], [y], OPT_RESHAPE, [])
    m.outputs = [y]
    return m


def quantize_float():
    m, x = single_input([2, 13], None, None, FLOAT32)
    y = m.t([2, 13], INT8, 0.025, -4)
    m.op(QUANTIZE, [x], [y])
    m.outputs = [y]
    return m


def requantize():
    m, x = single_input([3, 11], 0.05, 10)
    y = m.t([3, 11], INT8, 0.07, -20)
    m.op(QUANTIZE, [x], [y])
    m.outputs = [y]
    return m


def dequantize():
    m, x = single_input([4, 9], 0.0371, -17)
    y = m.t([4, 9], FLOAT32)
    m.op(DEQUANTIZE, [x], [y])
    m.outputs = [y]
    return m


def logistic(scale, zp):
    m, x = single_input([2, 37], scale, zp)
    y = m.t([2, 37], INT8, 1.0 / 256, -128)
    m.op(LOGISTIC, [x], [y])
    m.outputs = [y]
    return m


def softmax(shape, scale, zp, beta):
    m, x = single_input(shape, scale, zp)
    y = m.t(shape, INT8, 1.0 / 256, -128)
    m.op(SOFTMAX, [x], [y], OPT_SOFTMAX, [(0, "f", beta)])
    m.outputs = [y]
    return m


def mlp():
    rng = np.random.default_rng(20)
    m, x = single_input([1, 64], None, None, FLOAT32)
    q = m.t([1, 64], INT8, 0.02, 1)
    m.op(QUANTIZE, [x], [q])
    h = fc(m, rng, q, 32, 0.05, -128, RELU, w_scale=0.01)
    h = fc(m, rng, h, 16, 0.04, -128, RELU, w_scale=0.02)
    h = fc(m, rng, h, 4, 0.06, 3, NONE, w_scale=0.02)
    y = m.t([1, 4], FLOAT32)
    m.op(DEQUANTIZE, [h], [y])
    m.outputs = [y]
    return m


def cnn():
    """Keyword-spotting sized: 49x10 MFCC-like input, conv/dw/pointwise, pool, FC."""
    rng = np.random.default_rng(30)
    m, x = single_input([1, 49, 10, 1], 0.05, -2)
    h = conv(m, rng, x, 16, (10, 4), (2, 2), act=RELU, out_scale=0.08, out_zp=-128)
    h = conv(m, rng, h, 0, (3, 3), act=RELU, out_scale=0.06, out_zp=-128, depthwise=True)
    h = conv(m, rng, h, 24, (1, 1), act=RELU6, out_scale=0.05, out_zp=-128)
    h = pool(m, h, AVERAGE_POOL_2D, tuple(m.tensors[h].shape[1:3]), (1, 1), VALID)
    r = m.t([1, 24], INT8, m.tensors[h].scale, m.tensors[h].zp)
    s = m.t([2], INT32, None, None, np.array([1, 24], np.int32))
    m.op(RESHAPE, [h, s], [r], OPT_RESHAPE, [])
    m.outputs = [fc(m, rng, r, 12, 0.1, 0)]
    return m


MODELS = {
    "fc_basic": fc_basic, "fc_relu6_zp_ends": fc_relu6_zp_ends, "fc_saturate": fc_saturate,
    "conv_same_stride2": conv_same_stride2, "conv_valid_dil2": conv_valid_dil2,
    "conv_odd_strides_per_tensor": conv_odd_strides_per_tensor,
    "dw_same_mult2": dw_same_mult2, "dw_valid_dil_stride": dw_valid_dil_stride,
    "maxpool_same": maxpool_same, "avgpool_valid": avgpool_valid, "avgpool_same_edges": avgpool_same_edges,
    "add_same": lambda: binary(ADD, [1, 4, 4, 3]),
    "add_broadcast_relu": lambda: binary(ADD, [1, 1, 1, 3], RELU),
    "add_zp_ends": lambda: binary(ADD, [1, 4, 4, 3], NONE, (0.5, 0.01, 0.02), (-128, 127, 127)),
    "mul_same": lambda: binary(MUL, [1, 4, 4, 3]),
    "mul_broadcast_relu6": lambda: binary(MUL, [1, 4, 1, 3], RELU6, (0.1, 0.2, 0.05), (-128, 5, -128)),
    "reshape": reshape, "quantize_float": quantize_float, "requantize": requantize,
    "dequantize": dequantize, "mlp": mlp, "cnn": cnn,
    "logistic": lambda: logistic(0.1, 5),
    "logistic_saturating": lambda: logistic(0.2, -128),
    "softmax": lambda: softmax([3, 10], 0.1, 0, 1.0),
    # spread beyond the input radius (31 here): those get -128
    "softmax_wide_4d": lambda: softmax([2, 1, 5, 17], 0.5, -20, 1.0),
    "softmax_beta": lambda: softmax([4, 7], 0.05, 10, 0.5),
}


def write_all(outdir):
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, f in MODELS.items():
        m = f()
        (out / f"{name}.tflite").write_bytes(m.build())
        np.save(out / f"{name}.in.npy", np.concatenate([p.ravel().view(np.uint8) for p in m.example_input()]))
    return out


if __name__ == "__main__":
    write_all(sys.argv[1] if len(sys.argv) > 1 else "infer-models")
