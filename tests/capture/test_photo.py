"""accept_photo on real photos: the astronaut passes, cups and cats do not, junk is unreadable."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from app.capture.photo import (
    PhotoRejected,
    PhotoUnreadable,
    accept_image,
    accept_photo,
    declared_size,
)
from app.capture.quality import QualityConfig, assess
from tests.support import faces


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_astronaut_accepted_as_cropped_portrait_under_budget(ext: str) -> None:
    config = QualityConfig()
    photo = accept_photo(faces.encode(faces.astronaut(), ext))
    assert photo.jpeg[:2] == b"\xff\xd8"
    assert len(photo.jpeg) <= config.jpeg_budget_bytes
    image = decode(photo.jpeg)
    assert image.shape[:2] == (photo.height, photo.width)
    assert photo.width * 4 == photo.height * 3  # exactly 3:4
    assert photo.width >= config.output_min_width
    # The crop is a real crop (smaller than the 512x512 source) and holds the face.
    assert photo.width < 512 and photo.height < 512
    face = photo.report.face
    assert face is not None and 150 < face.x < 200 and 50 < face.y < 90
    c = photo.crop
    assert c.x <= face.x and face.x + face.w <= c.x + c.w
    assert c.y <= face.y and face.y + face.h <= c.y + c.h
    # The portrait itself still passes the checks: one face, sharp, well exposed.
    again = assess(image)
    assert len(again.faces) == 1
    assert again.ok, again.reasons
    assert photo.report.as_dict()["ok"] is True


def test_budget_met_by_lowering_quality_not_resolution() -> None:
    # A big, noisy picture: the 480x640 crop cannot fit 40 KB at quality 95.
    rng = np.random.default_rng(1)
    big = cv2.resize(faces.astronaut(), (1536, 1536), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 6, big.shape)
    noisy = np.clip(big.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    config = QualityConfig()
    photo = accept_photo(faces.encode(noisy, ".png"), config)
    assert len(photo.jpeg) <= config.jpeg_budget_bytes
    assert photo.quality < config.jpeg_quality_max
    assert photo.width == config.output_max_width  # not shrunk below the output size
    assert photo.height == config.output_max_width * 4 // 3
    # The next quality up would have been over budget: the best quality was chosen.
    crop = noisy[
        photo.crop.y : photo.crop.y + photo.crop.h, photo.crop.x : photo.crop.x + photo.crop.w
    ]
    crop = cv2.resize(crop, (photo.width, photo.height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, photo.quality + 1])
    assert ok and len(buf) > config.jpeg_budget_bytes


def test_tight_budget_shrinks_but_not_below_minimum() -> None:
    config = QualityConfig(jpeg_budget_bytes=1500)
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(faces.astronaut()), config)
    assert e.value.codes == ["over_budget"]
    roomy = QualityConfig(jpeg_budget_bytes=9000)
    photo = accept_photo(faces.encode(faces.astronaut()), roomy)
    assert len(photo.jpeg) <= 9000
    assert photo.width >= roomy.output_min_width


@pytest.mark.parametrize("budget", [40_000, 12_000])
def test_a_shrunk_photo_is_still_exactly_3_by_4(budget: int) -> None:
    # A very noisy picture (a cheap camera at high gain): even quality 50 at 480x640 and at
    # 408x544 is over budget, so the picture is shrunk to 346 px (40 KB) or 211 px (12 KB) wide,
    # widths that are not a multiple of 3.
    rng = np.random.default_rng(1)
    big = cv2.resize(faces.astronaut(), (1536, 1536), interpolation=cv2.INTER_CUBIC)
    noisy = np.clip(big + rng.normal(0, 100, big.shape), 0, 255).astype(np.uint8)
    config = QualityConfig(jpeg_budget_bytes=budget)
    photo = accept_photo(faces.encode(noisy, ".png"), config)
    assert len(photo.jpeg) <= budget
    assert photo.width < 408  # the shrinking path, not just a lower quality
    assert decode(photo.jpeg).shape[:2] == (photo.height, photo.width)
    assert photo.width * 4 == photo.height * 3, (photo.width, photo.height)


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_non_faces_rejected_with_no_face(name: str) -> None:
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(faces.non_face(name), ".jpg"))
    assert e.value.codes[0] == "no_face"
    assert "No face" in e.value.reasons[0].message


def test_two_faces_rejected() -> None:
    a = faces.astronaut()
    pair = np.hstack([a, a])
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(pair))
    assert "many_faces" in e.value.codes
    assert "2 faces" in str(e.value)


def test_small_face_rejected() -> None:
    # Face ~9% of the width: found (the detector looks down to 6%), but too small.
    small = faces.on_canvas(faces.astronaut(), (1024, 1024))
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(small))
    assert e.value.codes == ["face_too_small"]


def test_off_centre_rejected() -> None:
    wide = faces.on_canvas(faces.astronaut(), (760, 512), at=(-100, 0))
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(wide))
    assert e.value.codes == ["off_centre"]


def test_too_close_rejected() -> None:
    a = faces.astronaut()
    close = cv2.resize(a[60:170, 170:280], (600, 600), interpolation=cv2.INTER_CUBIC)
    report = assess(close)
    assert report.face is not None
    assert "face_too_close" in report.codes


def test_blurry_rejected() -> None:
    blurred = cv2.GaussianBlur(faces.astronaut(), (0, 0), 3)
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(blurred))
    assert e.value.codes == ["blurry"]


def test_dark_and_bright_rejected() -> None:
    a = faces.astronaut().astype(np.float64)
    dark = (a * 0.3).astype(np.uint8)
    bright = np.clip(a * 1.6, 0, 255).astype(np.uint8)
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(dark))
    assert "too_dark" in e.value.codes
    with pytest.raises(PhotoRejected) as e:
        accept_photo(faces.encode(bright))
    assert "too_bright" in e.value.codes


def test_every_failed_check_is_reported() -> None:
    black = np.zeros((480, 640, 3), np.uint8)
    report = assess(black)
    assert report.codes == ["no_face", "too_dark"]


def test_grey_image_accepted() -> None:
    grey = cv2.cvtColor(faces.astronaut(), cv2.COLOR_BGR2GRAY)
    photo = accept_photo(faces.encode(grey))
    assert decode(photo.jpeg).shape == (photo.height, photo.width, 3)


def test_camera_frame_accepted() -> None:
    photo = accept_image(faces.astronaut_frame())
    assert photo.report.ok
    assert photo.width * 4 == photo.height * 3


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage" * 100, b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b"\xff\xd8\xff\xe0" + b"x" * 200],
    ids=["empty", "garbage", "broken-png", "broken-jpeg"],
)
def test_not_an_image_is_unreadable(data: bytes) -> None:
    with pytest.raises(PhotoUnreadable) as e:
        accept_photo(data)
    assert e.value.message


def test_too_many_bytes_unreadable() -> None:
    data = faces.encode(faces.astronaut())
    with pytest.raises(PhotoUnreadable, match="too large"):
        accept_photo(data, QualityConfig(max_input_bytes=len(data) - 1))


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_declared_size_read_from_header(ext: str) -> None:
    image = np.zeros((300, 700, 3), np.uint8)
    assert declared_size(faces.encode(image, ext)) == (700, 300)
    assert declared_size(b"not an image") is None


def test_decompression_bomb_refused_before_decoding() -> None:
    # A real PNG header declaring 60000x60000 pixels with a tiny body.
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    png = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )
    with pytest.raises(PhotoUnreadable, match="60000x60000"):
        accept_photo(png)


def test_too_many_pixels_unreadable() -> None:
    data = faces.encode(faces.astronaut(), ".png")
    with pytest.raises(PhotoUnreadable, match="too large"):
        accept_photo(data, QualityConfig(max_input_pixels=512 * 511))


@pytest.mark.parametrize("ext", [".bmp", ".webp", ".tiff", ".hdr", ".ppm"])
def test_only_jpeg_and_png_are_decoded(ext: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Other formats are refused by their first bytes, before OpenCV sees them: it decodes
    # some (Radiance .hdr) through a temporary file, the photo in clear on the disk.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    data = faces.encode(faces.astronaut(), ext)
    with pytest.raises(PhotoUnreadable, match="not a JPEG or PNG"):
        accept_photo(data)
    assert list(tmp_path.iterdir()) == []


def test_a_jpeg_without_a_frame_header_is_refused_before_decoding() -> None:
    data = faces.encode(faces.astronaut(), ".jpg")
    sof = data.index(b"\xff\xc0")
    with pytest.raises(PhotoUnreadable, match="size cannot be read"):
        accept_photo(data[:sof])


def test_opencv_decoder_cap_becomes_unreadable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # In a fresh interpreter: app.capture sets OpenCV's decoder pixel cap before cv2 loads,
    # and a decoder refusing an image (here: a tiny cap) is PhotoUnreadable, not a crash.
    import subprocess
    import sys

    from tests.support.cli import env_with_source

    path = tmp_path / "a.png"
    path.write_bytes(faces.encode(faces.astronaut(), ".png"))
    code = (
        "import sys, os, app.capture.photo as p\n"
        "print(os.environ['OPENCV_IO_MAX_IMAGE_PIXELS'])\n"
        "try:\n"
        "    p.accept_photo(open(sys.argv[1], 'rb').read())\n"
        "except p.PhotoUnreadable as e:\n"
        "    print('unreadable:', e.message)\n"
    )
    env = env_with_source()
    env.pop("OPENCV_IO_MAX_IMAGE_PIXELS", None)
    r = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0 and r.stdout.strip() == "64000000", r.stderr
    env["OPENCV_IO_MAX_IMAGE_PIXELS"] = "1000"
    r = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "1000"
    assert lines[1].startswith("unreadable: The file is not a readable image")
