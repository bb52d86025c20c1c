"""Make resources/demo/face.avi: the demo camera's face video (run once; output committed).

A real frontal face that ships in a wheel (scikit-image's astronaut, public domain NASA photo),
framed like a webcam portrait and gently moving, as MJPG (OpenCV reads it everywhere).
scikit-image is a test dependency only, which is why the small result is committed.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from skimage import data

OUT = Path(__file__).resolve().parents[1] / "resources" / "demo" / "face.avi"
WIDTH, HEIGHT, FRAMES, FPS = 480, 360, 24, 12.0


def frames() -> list[np.ndarray]:
    rgb = data.astronaut()
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    scale = 1.15
    big = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    pad = 60
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    # The face sits at about (224, 113) in the 512 px original.
    cx, cy = int(224 * scale) + pad, int(113 * scale) + pad
    out = []
    for i in range(FRAMES):
        dx = int(round(6 * math.sin(2 * math.pi * i / FRAMES)))
        dy = int(round(3 * math.cos(2 * math.pi * i / FRAMES)))
        x0 = cx - WIDTH // 2 + dx
        y0 = cy - int(HEIGHT * 0.42) + dy
        out.append(np.ascontiguousarray(big[y0 : y0 + HEIGHT, x0 : x0 + WIDTH]))
    return out


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(OUT), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for frame in frames():
        writer.write(frame)
    writer.release()
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
