"""A sysfs-shaped IIO tree for tests of the sensors service on hosts without
IIO devices (no CONFIG_IIO here): the kernel's directory and file names
(ROOT/iio:deviceN/name, in_<chan>_raw, in_<chan>_scale, in_<chan>_offset,
type-shared in_<type>_scale) and formats (Documentation/ABI/testing/
sysfs-bus-iio: integers for raw and offset, a decimal with up to 9 places
for scale, each value followed by a newline).  The device map's `iio-root`
(or a sensor's `root`) points the adapter at it."""
from pathlib import Path


def _fmt(v):
    """As the kernel prints IIO values: integers as such, fractions as
    IIO_VAL_INT_PLUS_MICRO (6 places) or, when that is not exact,
    IIO_VAL_INT_PLUS_NANO (9 places)."""
    if isinstance(v, float):
        return f"{v:.6f}" if round(v, 6) == v else f"{v:.9f}"
    return str(v)


def make_iio_tree(root, devices):
    """devices: {"iio:device0": {"name": "bme280", "channels": {"temp": {"raw": 23125, "scale": 1.0,
    "offset": -125}}, "shared": {"voltage": {"scale": 0.805664062}}}}.  Returns root."""
    root = Path(root)
    for dev, d in devices.items():
        base = root / dev
        base.mkdir(parents=True, exist_ok=True)
        (base / "name").write_text(d.get("name", dev) + "\n")
        for chan, attrs in d.get("channels", {}).items():
            for attr, value in attrs.items():
                (base / f"in_{chan}_{attr}").write_text(_fmt(value) + "\n")
        for typ, attrs in d.get("shared", {}).items():
            for attr, value in attrs.items():
                (base / f"in_{typ}_{attr}").write_text(_fmt(value) + "\n")
    return root


def set_attr(root, dev, chan, attr, value):
    """A new reading (or scale...), written the way sysfs shows it."""
    (Path(root) / dev / f"in_{chan}_{attr}").write_text(_fmt(value) + "\n")
