"""A participant's photo, made safe to keep and to show: checked, re-encoded, stripped of every metadata.

A phone photo carries its GPS position, the phone's model and more in its EXIF data; the room keeps
none of it. Each upload must be a plain photo (JPEG, PNG, WebP or GIF, as a phone's browser sends
it: iOS turns HEIC into JPEG for a web form) of at most :data:`MAX_BYTES` and :data:`MAX_PIXELS`.
It is refused, before any pixel is decoded, when it is also something else (a polyglot: a web page
inside it, or a zip archive at its end) or claims more pixels than a phone takes (a decompression
bomb: a few kilobytes that would decode to gigabytes). What is kept is a new JPEG of at most
:data:`LONGEST_SIDE` pixels, upright as the phone held it, holding only pixels: none of the upload's
bytes survive, so nothing hidden in them can either.
"""

from __future__ import annotations

import io
import re
import zipfile

from PIL import Image, ImageOps, UnidentifiedImageError

from hello_winners.room.refusal import Refused

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 64_000_000  # a 64-megapixel phone photo; Pillow's own bomb warning starts at about 89
LONGEST_SIDE = 1024
QUALITY = 85
# The readers tried (a phone's multi-picture JPEG, MPO, opens through the JPEG reader).
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# The start of a web page or a script: long enough that compressed pixels never spell one by chance.
_MARKUP = re.compile(rb"<(?:script|html|!doctype|iframe|body|\?php)", re.IGNORECASE)


def reencode(data: bytes) -> bytes:
    """The upload as a new metadata-free JPEG of at most LONGEST_SIDE pixels, or Refused saying why not."""
    if len(data) > MAX_BYTES:
        raise Refused(413, f"The photo is {len(data) / 1e6:.1f} MB: the room takes up to {MAX_BYTES // 2**20} MB, "
                           "so take it again at a lower resolution.")
    if not data:
        raise Refused(400, "No photo came with the form: take one or choose a file, then send it.")
    if _MARKUP.search(data) or zipfile.is_zipfile(io.BytesIO(data)):
        raise Refused(415, "That file is a photo and something else too (a web page or a zip archive): "
                           "send a plain photo from the camera.")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours: the header claims even more
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise Refused(415, "That file is not a photo the room can read: send a JPEG, PNG, WebP or GIF.") from None
    with image:
        if image.size[0] * image.size[1] > MAX_PIXELS:
            raise _too_many_pixels()
        try:
            return _new_jpeg(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise Refused(415, "That photo is damaged or cut short: take it again.") from None


def _too_many_pixels() -> Refused:
    return Refused(413, f"The photo has more pixels than the room decodes ({MAX_PIXELS // 1_000_000} megapixels): "
                        "send a smaller one.")


def _new_jpeg(image: Image.Image) -> bytes:
    """Decode (a JPEG at a reduced scale when it is large: far faster), turn upright, shrink, re-encode."""
    image.draft("RGB", (LONGEST_SIDE * 2, LONGEST_SIDE * 2))
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "P", "PA"):
        upright = upright.convert("RGBA")
        flat = Image.new("RGB", upright.size, "white")
        flat.paste(upright, mask=upright.getchannel("A"))
        upright = flat
    upright = upright.convert("RGB")
    upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    upright.info.clear()  # Pillow writes some of it back (a JPEG comment): keep nothing but pixels
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
