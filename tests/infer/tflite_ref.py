"""A plain NumPy reference of TensorFlow Lite's int8 integer semantics (the
quantization spec and its reference kernels' fixed-point arithmetic),
written independently of src/infer to check it bit for bit.  It runs a
gen_models.Model directly (not its flatbuffer: Arm NN checks the encoding).

Fixed point, as the spec describes it: a real multiplier M = q * 2^shift,
q a Q31 value in [0.5, 1); x * M is SaturatingRoundingDoublingHighMul(x << max(shift, 0), q)
followed by RoundingDivideByPOT(., max(-shift, 0)).
"""
import math

import numpy as np

import gen_models as g

I32 = 1 << 32


def wrap32(x):
    return ((np.asarray(x, np.int64) + (1 << 31)) % I32) - (1 << 31)


def quantize_multiplier(real):
    if real <= 0:
        return 0, 0
    q, e = math.frexp(real)
    qf = int(math.floor(q * (1 << 31) + 0.5))
    if qf == 1 << 31:
        qf //= 2
        e += 1
    if e < -31:
        return 0, 0
    return qf, e


def srdhm(a, b):
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    x = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(x >= 0, x >> 31, -((-x) >> 31))  # division truncating toward zero
    return np.where((a == b) & (a == -(1 << 31)), (1 << 31) - 1, q)


def rdivpot(x, e):
    x, e = np.asarray(x, np.int64), np.asarray(e, np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def mul_qm(x, m, s):
    s = np.asarray(s, np.int64)
    left, right = np.maximum(s, 0), np.maximum(-s, 0)
    return rdivpot(srdhm(wrap32(np.asarray(x, np.int64) << left), m), right)


def round_away(v):
    v = np.asarray(v, np.float64)
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


def act_range(act, scale, zp):
    lo, hi = -128, 127
    q = lambda f: zp + int(round_away(np.float32(f) / np.float32(scale)))
    if act in (g.RELU, g.RELU6):
        lo = zp
    if act == g.RELU6:
        hi = q(6.0)
    if act == g.RELU_N1_TO_1:
        lo, hi = q(-1.0), q(1.0)
    return max(lo, -128), min(hi, 127)


def opts_of(op):
    return {slot: v for slot, _, v in op[4]}


def f64(v):
    """a scale as the model stores it (float32), widened to double"""
    return np.float64(np.float32(v))


def channel_multipliers(in_t, w_t, out_t, n):
    ws = np.broadcast_to(np.atleast_1d(np.asarray(w_t.scale, np.float32)), (n,))
    pairs = [quantize_multiplier(float(f64(in_t.scale) * f64(s) / f64(out_t.scale)))
             for s in ws]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def finish(acc, m, s, out_t, act):
    lo, hi = act_range(act, out_t.scale, out_t.zp)
    return np.clip(mul_qm(wrap32(acc), m, s) + out_t.zp, lo, hi).astype(np.int8)


def fully_connected(mod, op, x):
    w_t, b_t, out_t = mod.tensors[op[1][1]], mod.tensors[op[1][2]], mod.tensors[op[2][0]]
    in_t = mod.tensors[op[1][0]]
    w = w_t.data.astype(np.int64)
    xs = x.reshape(-1, w.shape[1]).astype(np.int64) - in_t.zp
    acc = xs @ w.T + b_t.data.astype(np.int64)
    m, s = channel_multipliers(in_t, w_t, out_t, w.shape[0])
    return finish(acc, m, s, out_t, opts_of(op).get(0, 0)).reshape(out_t.shape)


def padding(n, k, stride, dil, same):
    eff = (k - 1) * dil + 1
    out = (n + stride - 1) // stride if same else (n - eff + stride) // stride
    return out, max(((out - 1) * stride + eff - n) // 2, 0)


def conv(mod, op, x, depthwise):
    in_t, w_t, b_t, out_t = (mod.tensors[i] for i in op[1] + op[2])
    o = opts_of(op)
    same = o.get(0, 0) == g.SAME
    sw, sh = o.get(1, 1), o.get(2, 1)
    dw_, dh = (o.get(5, 1), o.get(6, 1)) if depthwise else (o.get(4, 1), o.get(5, 1))
    act = o.get(4 if depthwise else 3, 0)
    w = w_t.data.astype(np.int64)
    n, h, wd, c = x.shape
    kh, kw = w.shape[1], w.shape[2]
    oh, ph = padding(h, kh, sh, dh, same)
    ow, pw = padding(wd, kw, sw, dw_, same)
    # padding with the zero point is padding with 0 after the offset
    xp = np.zeros((n, h + 2 * ph + kh * dh, wd + 2 * pw + kw * dw_, c), np.int64)
    xp[:, ph:ph + h, pw:pw + wd, :] = x.astype(np.int64) - in_t.zp
    oc = w.shape[3] if depthwise else w.shape[0]
    acc = np.zeros((n, oh, ow, oc), np.int64) + b_t.data.astype(np.int64)
    for ky in range(kh):
        for kx in range(kw):
            win = xp[:, ky * dh: ky * dh + (oh - 1) * sh + 1: sh, kx * dw_: kx * dw_ + (ow - 1) * sw + 1: sw, :]
            if depthwise:
                acc += np.repeat(win, oc // c, axis=3) * w[0, ky, kx, :]
            else:
                acc += np.einsum("nhwc,oc->nhwo", win, w[:, ky, kx, :])
    m, s = channel_multipliers(in_t, w_t, out_t, oc)
    return finish(acc, m, s, out_t, act)


def pool(mod, op, x):
    o = opts_of(op)
    same = o.get(0, 0) == g.SAME
    sw, sh, fw, fh, act = o.get(1, 1), o.get(2, 1), o[3], o[4], o.get(5, 0)
    out_t = mod.tensors[op[2][0]]
    n, h, wd, c = x.shape
    oh, ph = padding(h, fh, sh, 1, same)
    ow, pw = padding(wd, fw, sw, 1, same)
    y = np.zeros((n, oh, ow, c), np.int64)
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * sh - ph, j * sw - pw
            win = x[:, max(y0, 0):min(y0 + fh, h), max(x0, 0):min(x0 + fw, wd), :].astype(np.int64)
            if op[0] == g.MAX_POOL_2D:
                y[:, i, j, :] = win.max(axis=(1, 2))
            else:
                cnt = win.shape[1] * win.shape[2]
                s = win.sum(axis=(1, 2))
                # integer average rounded half away from zero
                y[:, i, j, :] = np.where(s > 0, (s + cnt // 2) // cnt, -((-s + cnt // 2) // cnt))
    lo, hi = act_range(act, out_t.scale, out_t.zp)
    return np.clip(y, lo, hi).astype(np.int8)


def binary(mod, op, a, b):
    ta, tb, to = mod.tensors[op[1][0]], mod.tensors[op[1][1]], mod.tensors[op[2][0]]
    a, b = a.astype(np.int64) - ta.zp, b.astype(np.int64) - tb.zp
    if op[0] == g.MUL:
        m, s = quantize_multiplier(float(f64(ta.scale) * f64(tb.scale) / f64(to.scale)))
        v = mul_qm(a * b, m, s)
    else:
        twice = 2.0 * max(float(np.float32(ta.scale)), float(np.float32(tb.scale)))
        ma, sa = quantize_multiplier(float(np.float32(ta.scale)) / twice)
        mb, sb = quantize_multiplier(float(np.float32(tb.scale)) / twice)
        mo, so = quantize_multiplier(twice / ((1 << 20) * float(np.float32(to.scale))))
        v = mul_qm(mul_qm(a << 20, ma, sa) + mul_qm(b << 20, mb, sb), mo, so)
    lo, hi = act_range(opts_of(op).get(0, 0), to.scale, to.zp)
    return np.clip(v + to.zp, lo, hi).astype(np.int8).reshape(to.shape)


def quant(mod, op, x):
    ti, to = mod.tensors[op[1][0]], mod.tensors[op[2][0]]
    if op[0] == g.DEQUANTIZE:
        return (np.float64(np.float32(ti.scale)) * (x.astype(np.int64) - ti.zp)).astype(np.float32)
    if ti.type == g.FLOAT32:
        q = round_away(x.astype(np.float32) / np.float32(to.scale))
        return np.clip(q + to.zp, -128, 127).astype(np.int8)
    m, s = quantize_multiplier(float(np.float64(np.float32(ti.scale)) / np.float64(np.float32(to.scale))))
    return np.clip(mul_qm(x.astype(np.int64) - ti.zp, m, s) + to.zp, -128, 127).astype(np.int8)


# ---- LOGISTIC: gemmlowp's fixed-point logistic on a Q4.27 input, as
# TFLite's reference int8 kernel (and TFLite Micro) computes it.  Scalar
# Python ints: readable rather than fast.
def _srdhm(a, b):
    return int(srdhm(a, b))


def _rdivpot(x, e):
    return int(rdivpot(x, e))


def _sat_shl(x, e):
    return max(min(x << e, (1 << 31) - 1), -(1 << 31))


def _exp_on_negative(a, ib):
    """exp(a), a <= 0 with ib integer bits, result Q0.31"""
    if a == 0:
        return (1 << 31) - 1
    fb = 31 - ib
    quarter = 1 << (fb - 2)
    amq = (a & (quarter - 1)) - quarter  # a mod 1/4, minus 1/4, in [-1/4, 0)
    x = _sat_shl(amq, ib) + (1 << 28)    # Q0.31, shifted by 1/8 for the series
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4 = _srdhm(x2, x2)
    t = _rdivpot(_srdhm(_rdivpot(x4, 2) + x3, 715827883) + x2, 1)
    r = 1895147668 + _srdhm(1895147668, x + t)  # exp(-1/8) * (1 + x + x^2/2 + ...)
    rem = amq - a
    for k, m in enumerate([1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242]):
        if k - 2 < ib and rem & (1 << (fb - 2 + k)):  # exp(-2^(k-2)) per whole-quarter bit
            r = _srdhm(r, m)
    return r


def _one_over_one_plus(a):
    s = a + (1 << 31) - 1
    half = (s + (1 if s >= 0 else -1)) // 2 if s >= 0 else -((-s + 1) // 2)
    x = 1515870810 + _srdhm(half, -1010580540)
    for _ in range(3):
        x = x + _sat_shl(_srdhm(x, (1 << 29) - _srdhm(half, x)), 2)
    return _sat_shl(x, 1)


def logistic(mod, op, x):
    ti = mod.tensors[op[1][0]]
    m, s = quantize_multiplier(float(f64(ti.scale) * (1 << 27)))
    radius = math.floor(15.0 * (1 << 27) / 2.0 ** s)
    out = []
    for v in (x.astype(np.int64) - ti.zp).ravel():
        v = int(v)
        if v <= -radius:
            out.append(-128)
        elif v >= radius:
            out.append(127)
        else:
            a = int(mul_qm(v, m, s))
            if a == 0:
                r = 1 << 30
            else:
                pos = _one_over_one_plus(_exp_on_negative(-abs(a), 4))
                r = pos if a > 0 else (1 << 31) - 1 - pos
            out.append(min(max(_rdivpot(r, 23) - 128, -128), 127))
    return np.array(out, np.int8).reshape(x.shape)


def softmax(mod, op, x):
    ti = mod.tensors[op[1][0]]
    beta = float(np.float32(opts_of(op).get(0, 0.0)))
    real = min(beta * f64(ti.scale) * (1 << 26), (1 << 31) - 1.0)
    m, s = quantize_multiplier(real)
    diff_min = -math.floor(31.0 * (1 << 26) / 2.0 ** s)
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    out = np.full(rows.shape, -128, np.int64)
    for r, row in enumerate(rows):
        diffs = [int(v) - int(row.max()) for v in row]
        exps = [_exp_on_negative(int(mul_qm(d, m, s)), 5) if d >= diff_min else None for d in diffs]
        total = sum(_rdivpot(e, 12) for e in exps if e is not None)  # Q12.19
        clz = 32 - total.bit_length()
        bits_over_unit = 12 - clz
        recip = _one_over_one_plus(((total << clz) & 0xFFFFFFFF) - (1 << 31))
        for c, e in enumerate(exps):
            if e is not None:
                out[r, c] = min(max(_rdivpot(_srdhm(recip, e), bits_over_unit + 23) - 128, -128), 127)
    return out.astype(np.int8).reshape(x.shape)


def run(mod, inputs):
    """inputs: arrays in mod.inputs order; returns the output arrays"""
    vals = {i: np.asarray(v).reshape(mod.tensors[i].shape) for i, v in zip(mod.inputs, inputs)}
    for op in mod.ops:
        code, ins, outs = op[0], op[1], op[2]
        x = vals.get(ins[0])
        if code == g.FULLY_CONNECTED:
            y = fully_connected(mod, op, x)
        elif code in (g.CONV_2D, g.DEPTHWISE_CONV_2D):
            y = conv(mod, op, x, code == g.DEPTHWISE_CONV_2D)
        elif code in (g.MAX_POOL_2D, g.AVERAGE_POOL_2D):
            y = pool(mod, op, x)
        elif code in (g.ADD, g.MUL):
            y = binary(mod, op, x, vals[ins[1]])
        elif code == g.RESHAPE:
            y = x.reshape(mod.tensors[outs[0]].shape)
        elif code in (g.QUANTIZE, g.DEQUANTIZE):
            y = quant(mod, op, x)
        elif code == g.LOGISTIC:
            y = logistic(mod, op, x)
        elif code == g.SOFTMAX:
            y = softmax(mod, op, x)
        else:
            raise NotImplementedError(code)
        vals[outs[0]] = y.reshape(mod.tensors[outs[0]].shape)
    return [vals[o] for o in mod.outputs]
