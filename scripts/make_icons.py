"""Draw the skill icons from their vector source, with nothing but the standard library.

    python scripts/make_icons.py           # writes interaction_models/assets/icon-{108,512}.png
    python scripts/make_icons.py --check   # fails if a committed PNG differs from its source

The source (``interaction_models/assets/icon.svg``) uses a small part of SVG: ``rect`` (with
``rx``), ``circle``, ``ellipse`` and ``polygon``, each with a ``#rrggbb`` fill, painted in
order. Each shape becomes a polygon and is filled scanline by scanline with exact horizontal
coverage and several sub-rows per pixel (anti-aliased edges), so the same source always gives
the same bytes. Alexa wants a 108x108 and a 512x512 PNG for each locale (skill.json).
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "interaction_models" / "assets"
SOURCE = ASSETS / "icon.svg"
SIZES = (108, 512)
SUBROWS = 5  # vertical samples per pixel; horizontal coverage is exact
SVG = "{http://www.w3.org/2000/svg}"

Point = tuple[float, float]
Color = tuple[int, int, int]


class IconError(ValueError):
    """The source uses something this drawer does not read."""


def _num(el: ET.Element, name: str, default: float | None = None) -> float:
    value = el.get(name)
    if value is None:
        if default is None:
            raise IconError(f"<{el.tag.removeprefix(SVG)}> needs {name}")
        return default
    return float(value)


def _ellipse(cx: float, cy: float, rx: float, ry: float, segments: int = 96) -> list[Point]:
    return [(cx + rx * math.cos(2 * math.pi * i / segments),
             cy + ry * math.sin(2 * math.pi * i / segments)) for i in range(segments)]


def _rounded_rect(x: float, y: float, w: float, h: float, r: float) -> list[Point]:
    r = min(r, w / 2, h / 2)
    if r <= 0:
        return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    points: list[Point] = []
    corners = ((x + w - r, y + r, -90), (x + w - r, y + h - r, 0), (x + r, y + h - r, 90),
               (x + r, y + r, 180))
    for cx, cy, start in corners:
        for i in range(13):
            a = math.radians(start + 90 * i / 12)
            points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def _fill(el: ET.Element) -> Color:
    fill = el.get("fill", "")
    if len(fill) != 7 or not fill.startswith("#"):
        raise IconError(f"fill must be #rrggbb, not {fill!r}")
    return int(fill[1:3], 16), int(fill[3:5], 16), int(fill[5:7], 16)


def read_shapes(svg: Path) -> tuple[tuple[float, float], list[tuple[list[Point], Color]]]:
    """((viewBox width, height), [(polygon, colour)] in painting order)."""
    root = ET.parse(svg).getroot()
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    shapes = []
    for el in root:
        tag = el.tag.removeprefix(SVG)
        if tag == "rect":
            polygon = _rounded_rect(_num(el, "x", 0), _num(el, "y", 0), _num(el, "width"),
                                    _num(el, "height"), _num(el, "rx", 0))
        elif tag == "circle":
            polygon = _ellipse(_num(el, "cx"), _num(el, "cy"), _num(el, "r"), _num(el, "r"))
        elif tag == "ellipse":
            polygon = _ellipse(_num(el, "cx"), _num(el, "cy"), _num(el, "rx"), _num(el, "ry"))
        elif tag == "polygon":
            numbers = [float(v) for v in el.get("points", "").replace(",", " ").split()]
            polygon = list(zip(numbers[::2], numbers[1::2], strict=True))
        else:
            raise IconError(f"<{tag}> is not drawn by scripts/make_icons.py")
        shapes.append((polygon, _fill(el)))
    return (width, height), shapes


def _coverage_row(edges: list[tuple[Point, Point]], y: int, size: int) -> list[float]:
    """How much of each pixel of row ``y`` the polygon covers (even-odd rule)."""
    cover = [0.0] * size
    for sub in range(SUBROWS):
        sy = y + (sub + 0.5) / SUBROWS
        xs = sorted(x0 + (sy - y0) * (x1 - x0) / (y1 - y0)
                    for (x0, y0), (x1, y1) in edges if (y0 <= sy < y1) or (y1 <= sy < y0))
        for left, right in zip(xs[::2], xs[1::2], strict=True):
            left, right = max(left, 0.0), min(right, float(size))
            for px in range(int(left), min(int(math.ceil(right)), size)):
                overlap = min(right, px + 1) - max(left, px)
                if overlap > 0:
                    cover[px] += overlap / SUBROWS
    return cover


def render(svg: Path, size: int) -> list[bytearray]:
    """The icon as ``size`` rows of RGB bytes."""
    (width, height), shapes = read_shapes(svg)
    sx, sy = size / width, size / height
    rows = [bytearray(3 * size) for _ in range(size)]
    for polygon, color in shapes:
        scaled = [(x * sx, y * sy) for x, y in polygon]
        edges = list(zip(scaled, scaled[1:] + scaled[:1], strict=True))
        top = max(int(min(y for _, y in scaled)), 0)
        bottom = min(int(math.ceil(max(y for _, y in scaled))), size)
        for y in range(top, bottom):
            row = rows[y]
            for px, a in enumerate(_coverage_row(edges, y, size)):
                if a <= 0:
                    continue
                a = min(a, 1.0)
                for c in range(3):
                    i = 3 * px + c
                    row[i] = round(row[i] * (1 - a) + color[c] * a)
    return rows


def png(rows: list[bytearray]) -> bytes:
    """An 8-bit RGB PNG of the rows."""
    height, width = len(rows), len(rows[0]) // 3

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def icon_path(size: int) -> Path:
    return ASSETS / f"icon-{size}.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that the committed PNGs match the source")
    args = parser.parse_args(argv)
    stale = []
    for size in SIZES:
        data = png(render(SOURCE, size))
        path = icon_path(size)
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
            print(f"make_icons: wrote {path.relative_to(ROOT)} ({len(data)} bytes)")
    if stale:
        print(f"make_icons: {', '.join(stale)} differ from {SOURCE.name}: run "
              f"python scripts/make_icons.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
