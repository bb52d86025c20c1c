"""Capture devices: camera sources, the preview loop, photo quality, the PC/SC card reader.

Plain Python (OpenCV, pyscard), no Qt: see docs/capture.md.
"""

import os

# OpenCV reads this once, when cv2 is first imported: a cap on the pixels any image decoder
# allocates (OpenCV's default is 2**30). photo.py checks PNG and JPEG sizes from their headers
# before decoding; this covers the other formats (WebP, TIFF, BMP...).
MAX_DECODE_PIXELS = 64_000_000
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_DECODE_PIXELS))
