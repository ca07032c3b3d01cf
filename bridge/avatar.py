"""A clear, stable picture for each QQ face id.

QQ's faces were bitmaps shipped with the client (face id 270 is image 91.bmp: id // 3 + 1, seed
000); we have none of them, so each face gets a coloured tile showing its image number. The same
face id always gives the same bytes, so the upload is done once and its mxc URI reused.
"""

from __future__ import annotations

import colorsys
import io

from PIL import Image, ImageDraw, ImageFont

SIZE = 96


def face_image_number(face: int) -> int:
    """The number of the QQ client's bitmap for this face id (seed 000: id/3+1)."""
    return face // 3 + 1


def face_png(face: int) -> bytes:
    """A PNG of SIZE×SIZE pixels: a hue picked by the image number, the number in white."""
    number = face_image_number(face)
    hue = (number * 0.618033988749895) % 1.0  # golden ratio: neighbouring numbers look different
    red, green, blue = (round(channel * 255) for channel in colorsys.hsv_to_rgb(hue, 0.55, 0.75))
    image = Image.new("RGB", (SIZE, SIZE), (red, green, blue))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    label = str(number)
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    position = ((SIZE - (right - left)) / 2 - left, (SIZE - (bottom - top)) / 2 - top)
    draw.text(position, label, fill=(255, 255, 255), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
