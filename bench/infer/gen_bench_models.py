"""gen_bench_models.py - the models of the inference benchmark (bench/infer).

Written with tests/infer/gen_models.py's builder (TFLite schema field
numbers, random weights from fixed seeds):
  kws_cnn   the keyword-spotting sized CNN of the tests (49x10 input)
  mlp       the MLP of the tests (float in/out, 3 FULLY_CONNECTED)
  fc_1024   one FULLY_CONNECTED, 1024 -> 256 (262,144 MACs)
  conv_3x3  one CONV_2D, 16x16x16 -> 16x16x32, 3x3 SAME (1,179,648 MACs)
  cnn_vww   a person-detection sized CNN: 48x48x3, conv 3x3/2, then three
            depthwise/pointwise blocks, average pool, FC to 2 classes
Usage: gen_bench_models.py OUTDIR   (writes NAME.tflite and NAME.in.bin)
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "tests" / "infer"))
import gen_models as g  # noqa: E402


def fc_1024():
    m, x = g.single_input([1, 1024], 0.05, -3)
    m.outputs = [g.fc(m, np.random.default_rng(101), x, 256, 0.5, 2, g.RELU, w_scale=0.01)]
    return m


def conv_3x3():
    m, x = g.single_input([1, 16, 16, 16], 0.05, 1)
    m.outputs = [g.conv(m, np.random.default_rng(102), x, 32, (3, 3), act=g.RELU, out_scale=0.3, out_zp=-128)]
    return m


def cnn_vww():
    rng = np.random.default_rng(103)
    m, x = g.single_input([1, 48, 48, 3], 0.02, 0)
    h = g.conv(m, rng, x, 16, (3, 3), (2, 2), act=g.RELU6, out_scale=0.05, out_zp=-128)
    for ch, stride in ((32, 1), (64, 2), (64, 2)):
        h = g.conv(m, rng, h, 0, (3, 3), (stride, stride), act=g.RELU6, out_scale=0.05, out_zp=-128,
                   depthwise=True)
        h = g.conv(m, rng, h, ch, (1, 1), act=g.RELU6, out_scale=0.05, out_zp=-128)
    h = g.pool(m, h, g.AVERAGE_POOL_2D, tuple(m.tensors[h].shape[1:3]), (1, 1), g.VALID)
    r = m.t([1, 64], g.INT8, m.tensors[h].scale, m.tensors[h].zp)
    s = m.t([2], g.INT32, None, None, np.array([1, 64], np.int32))
    m.op(g.RESHAPE, [h, s], [r], g.OPT_RESHAPE, [])
    m.outputs = [g.fc(m, rng, r, 2, 0.1, 0)]
    return m


MODELS = {"kws_cnn": g.cnn, "mlp": g.mlp, "fc_1024": fc_1024, "conv_3x3": conv_3x3, "cnn_vww": cnn_vww}


def write_all(outdir):
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, f in MODELS.items():
        m = f()
        (out / f"{name}.tflite").write_bytes(m.build())
        raw = np.concatenate([p.ravel().view(np.uint8) for p in m.example_input()])
        (out / f"{name}.in.bin").write_bytes(raw.tobytes())


if __name__ == "__main__":
    write_all(sys.argv[1])
