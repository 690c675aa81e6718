"""Page preparation before OCR: grey, upright, straight, clean.

``prepare`` turns a scanned page (any PIL mode, 200-400 dpi, possibly sideways, upside down or
skewed a few degrees, possibly with JPEG speckle) into a grey image ready for Tesseract, and says
how: the ``Transform`` maps points of the original image onto the prepared one and back, so the
words read on the prepared page can be drawn on the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from extract.ingest import MAX_PAGE_PIXELS

#: Pages scanned outside this range are resampled to ``TARGET_DPI`` before OCR (200 dpi scans
#: are read as they are: Tesseract scales text lines itself, and a bigger page costs time).
MIN_DPI, MAX_DPI, TARGET_DPI = 190, 450, 300
#: Largest skew (degrees) looked for and removed.
MAX_SKEW = 5.0
#: Smaller skews (degrees) are left alone: measuring them is no more precise than that, and
#: turning the page would only blur it.
SKEW_DEADBAND = 0.15


@dataclass(frozen=True)
class Transform:
    """Affine map from original-image pixels to prepared-image pixels: p' = M · (x, y, 1)."""

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    #: Quarter turn applied, clockwise degrees (0, 90, 180, 270).
    rotation: int = 0
    #: Skew removed, in degrees (positive: the text lines descended to the right).
    skew: float = 0.0
    #: Resampling factor applied (prepared px per original px).
    scale: float = 1.0

    def _m3(self) -> np.ndarray:
        return np.vstack([np.array(self.matrix, dtype=float), [0.0, 0.0, 1.0]])

    def to_prepared(self, x: float, y: float) -> tuple[float, float]:
        px, py, _ = self._m3() @ (x, y, 1.0)
        return float(px), float(py)

    def to_original(self, x: float, y: float) -> tuple[float, float]:
        px, py, _ = np.linalg.inv(self._m3()) @ (x, y, 1.0)
        return float(px), float(py)

    def box_to_original(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """The original-image box holding a prepared-image box (its four corners mapped back)."""
        x0, y0, x1, y1 = box
        pts = [self.to_original(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return (min(xs), min(ys), max(xs), max(ys))

    def then(self, matrix: np.ndarray, **changes: float) -> Transform:
        m = (np.vstack([matrix, [0.0, 0.0, 1.0]]) @ self._m3())[:2]
        values = {"rotation": self.rotation, "skew": self.skew, "scale": self.scale, **changes}
        return Transform(
            matrix=(tuple(float(v) for v in m[0]), tuple(float(v) for v in m[1])),  # type: ignore[arg-type]
            rotation=int(values["rotation"]) % 360,
            skew=float(values["skew"]),
            scale=float(values["scale"]),
        )


@dataclass
class Prepared:
    """A page ready for OCR."""

    #: Grey (mode "L") upright, deskewed, cleaned image.
    image: Image.Image
    #: Resolution of ``image`` (after any resampling).
    dpi: float
    transform: Transform = field(default_factory=Transform)
    #: Number of specks removed (0 when not denoised).
    specks_removed: int = 0

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.image)


# --- grey ---------------------------------------------------------------------------------


def to_grey(image: Image.Image) -> Image.Image:
    """Any PIL image as 8-bit grey; transparency is flattened onto white."""
    if image.mode == "L":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("L")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        top = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")
    if image.mode == "RGB":
        return _without_seal_ink(image)
    return image.convert("L")


#: How much redder than green and blue a pixel is to be a seal's vermilion, not paper or ink
#: (a scanned seal's edge is a pale red, 40 or so over the other channels).
SEAL_RED_MARGIN = 25


def _without_seal_ink(image: Image.Image) -> Image.Image:
    """Grey with a seal's red ink taken out: an official seal (公印) is stamped over the issuer's
    name and the date, and read as characters it hides them. Where a pixel is red, its red
    channel stands for it: black ink or a ruled line under the seal stays dark there."""
    grey = np.asarray(image.convert("L"))
    red, green, blue = cv2.split(np.asarray(image))
    # how much redder than green and blue (uint8 arithmetic saturates at 0: a page is large)
    redness = cv2.subtract(red, cv2.max(green, blue))
    seal = redness > SEAL_RED_MARGIN
    if not seal.any():
        return Image.fromarray(grey, "L")
    # red ink lets red light through: the red channel is the page under the seal, dimmed a
    # little by the ink itself (its paper level is the seal's usual red)
    under = red[seal].astype(np.float32)
    paper = max(float(np.percentile(under, 75)), 1.0)
    grey = grey.copy()
    grey[seal] = np.maximum(grey[seal], np.clip(under * (255.0 / paper), 0, 255).astype(np.uint8))
    return Image.fromarray(grey, "L")


def normalize_levels(grey: np.ndarray) -> np.ndarray:
    """Paper to white, ink to black: grey paper, faint toner and sensor noise taken out.

    The paper level is the median (most of a page is paper), the ink level a low percentile;
    the range between is stretched to 0..255 and whatever is close to paper becomes white.
    """
    if grey.size == 0:
        return grey
    small = grey[::4, ::4]
    paper = float(np.median(small))
    ink = float(np.percentile(small, 0.5))
    if paper - ink < 40:  # blank page, or a photo: leave it
        return grey
    lut = (np.arange(256, dtype=np.float32) - ink) * (255.0 / (paper - ink))
    lut = np.clip(lut, 0, 255)
    lut[lut >= 0.88 * 255] = 255
    if grey.dtype == np.uint8 and grey.ndim == 2:
        return cv2.LUT(grey, lut.astype(np.uint8))  # (the same as indexing, a few times faster)
    return lut.astype(np.uint8)[grey]


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Dark pixels (ink) of a grey page as a uint8 0/255 mask, by Otsu's threshold."""
    if grey.size == 0 or int(grey.min()) > 160:
        return np.zeros(grey.shape, dtype=np.uint8)
    thr, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Faint pages (light toner) push Otsu up: never call paper-white ink. On a page of pure
    # black and white Otsu answers the black level itself: never call black paper.
    thr = min(max(thr, 100.0), 200.0)
    if grey.dtype == np.uint8:
        # grey < thr is grey <= ceil(thr) - 1 for whole grey levels: cv2's inverted threshold
        # (0 above the level, 255 at or under it) gives the same mask several times faster
        return cv2.threshold(grey, math.ceil(thr) - 1, 255, cv2.THRESH_BINARY_INV)[1]
    return np.where(grey < thr, 255, 0).astype(np.uint8)


def connected_components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats`` of a mask, 8-connectivity: (count, labels, stats).

    Labels are 16-bit when there are few enough of them: the same labels and stats as with
    32-bit ones (cv2 numbers them the same way), computed about three times faster.
    """
    try:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:  # more than 65535 components
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)
    return n, labels, stats


# --- blank pages -------------------------------------------------------------------------

#: The resolution a page is looked at for ink: text and ruled lines stay darker than the paper
#: there, a speck of dust does not.
BLANK_DPI = 36
#: Grey levels from the paper's that count as a mark at :data:`BLANK_DPI`.
BLANK_CONTRAST = 32
#: Marks (pixels at :data:`BLANK_DPI`) a page may hold and still be blank.
BLANK_MARKS = 3


def is_blank(grey: np.ndarray, dpi: float) -> bool:
    """A page with no ink: seen at :data:`BLANK_DPI`, fewer than :data:`BLANK_MARKS` pixels
    differ from the paper's level by :data:`BLANK_CONTRAST` (either way: a page printed white
    on black is not blank). Such a page needs no OCR nor any question of its orientation."""
    if grey.size == 0:
        return True
    if grey.ndim != 2:
        return False
    if grey.dtype != np.uint8:
        grey = np.asarray(to_grey(Image.fromarray(grey)))
    low, high, _, _ = cv2.minMaxLoc(grey)
    if high - low <= BLANK_CONTRAST:
        return True  # one level of paper all over (a page of a blank G4 TIFF): no need to look closer
    scale = min(1.0, BLANK_DPI / max(float(dpi), 1.0))
    small = grey
    if scale < 1.0:
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    paper = int(np.median(small))
    low, high = max(0, paper - BLANK_CONTRAST), min(255, paper + BLANK_CONTRAST)
    marks = small.size - int(np.count_nonzero((small >= low) & (small <= high)))
    return marks < BLANK_MARKS


def image_is_blank(image: Image.Image, dpi: float) -> bool:
    """:func:`is_blank` of a PIL image in any mode."""
    if image.width == 0 or image.height == 0:
        return True
    return is_blank(np.asarray(to_grey(image)), dpi)


# --- orientation -------------------------------------------------------------------------


def rotate_quarter(image: Image.Image, clockwise: int) -> Image.Image:
    """Turn an image clockwise by 0, 90, 180 or 270 degrees."""
    clockwise %= 360
    if clockwise == 0:
        return image
    op = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }[clockwise]
    return image.transpose(op)


def _quarter_matrix(clockwise: int, width: int, height: int) -> np.ndarray:
    """Pixel map of a clockwise quarter turn of a width × height image."""
    clockwise %= 360
    if clockwise == 90:
        return np.array([[0.0, -1.0, float(height)], [1.0, 0.0, 0.0]])
    if clockwise == 180:
        return np.array([[-1.0, 0.0, float(width)], [0.0, -1.0, float(height)]])
    if clockwise == 270:
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, float(width)]])
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


# --- skew --------------------------------------------------------------------------------


def _profile_score(xs: np.ndarray, ys: np.ndarray, angle_deg: float, offset: float, size: int) -> float:
    shifted = ys - xs * math.tan(math.radians(angle_deg)) + offset
    hist = np.bincount(shifted.astype(np.int32), minlength=size)
    hist = hist.astype(np.float64)
    return float(np.dot(hist, hist))


def estimate_skew(grey: np.ndarray, dpi: float, *, max_angle: float = MAX_SKEW) -> float:
    """Inclination of the text lines and rules in degrees (positive: descending to the right).

    Projection profiles of the ink, sheared by candidate angles: the sum of squared row counts
    peaks when rows of text and ruled lines lie flat. Coarse search, then a fine one.
    """
    scale = min(1.0, 150.0 / float(dpi))
    small = grey if scale >= 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = ink_mask(small)
    ys, xs = np.nonzero(ink)
    if len(xs) < 200:
        return 0.0
    if len(xs) > 400_000:
        pick = np.random.default_rng(0).choice(len(xs), 400_000, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64)
    ys = ys.astype(np.float64)
    w = float(small.shape[1])
    offset = w * math.tan(math.radians(max_angle + 1)) + 1
    size = int(small.shape[0] + 2 * offset + 2)

    def best(angles: np.ndarray) -> float:
        scores = [_profile_score(xs, ys, a, offset, size) for a in angles]
        return float(angles[int(np.argmax(scores))])

    coarse = best(np.arange(-max_angle, max_angle + 1e-9, 0.25))
    fine = best(np.arange(coarse - 0.25, coarse + 0.25 + 1e-9, 0.02))
    return round(fine, 2)


def deskew_matrix(angle: float, width: int, height: int) -> np.ndarray:
    """Rotation about the page centre that levels lines inclined by ``angle`` degrees."""
    # cv2's positive angle turns the picture counter-clockwise (y down), which lifts lines
    # descending to the right.
    return cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)


# --- speckle -----------------------------------------------------------------------------


def speck_area(dpi: float) -> int:
    """Largest dark blob (pixels) taken for speckle rather than ink at this resolution."""
    return max(2, round(8 * (dpi / 300.0) ** 2))


def isolated_speck_area(dpi: float) -> int:
    """Largest dark blob (pixels) taken for speckle when no other ink is near it.

    Scanner and JPEG specks are a few pixels whatever the resolution (a 2-pixel speck blurred
    and compressed at 200 dpi covers 5-8 pixels), while the smallest marks of the text (the
    period of ".jp", a comma, a dakuten) cover 20 pixels or more at 200 dpi, and a dakuten
    touches or nearly touches its kana.
    """
    return max(speck_area(dpi), round(9 * dpi / 200.0))


#: A blob with no other ink closer than this (mm) is isolated.
ISOLATION_MM = 0.5


def _speck_labels(ink: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """The ink's component labels, and per label whether it is a speck."""
    n, labels, stats = connected_components(ink)
    areas = stats[:, cv2.CC_STAT_AREA]
    small = areas <= speck_area(dpi)
    small[0] = False
    limit = isolated_speck_area(dpi)
    r = max(2, int(round(dpi * ISOLATION_MM / 25.4)))
    h, w = ink.shape
    for k in np.flatnonzero((areas > speck_area(dpi)) & (areas <= limit)):
        if k == 0:
            continue
        x, y, bw, bh = (int(v) for v in stats[k, :4])
        window = labels[max(0, y - r) : min(h, y + bh + r), max(0, x - r) : min(w, x + bw + r)]
        if not np.any((window != 0) & (window != k)):
            small[k] = True
    return labels, small


def _specks(ink: np.ndarray, dpi: float) -> np.ndarray:
    """Mask of the speck pixels of an ink mask: tiny blobs, and small ones far from other ink."""
    labels, small = _speck_labels(ink, dpi)
    return small[labels]


def despeckle(grey: np.ndarray, dpi: float, *, only_if_more_than: int = 0) -> tuple[np.ndarray, int]:
    """Whiten isolated dark specks (JPEG and scanner noise); returns the image and the count.

    Nothing is changed when there are ``only_if_more_than`` specks or fewer.
    """
    ink = ink_mask(grey)
    if not ink.any():
        return grey, 0
    labels, small = _speck_labels(ink, dpi)
    # the specks are whole components of the ink, and two components never touch: there are
    # as many specks as components taken
    count = int(np.count_nonzero(small))
    if count <= only_if_more_than:
        return grey, 0
    out = grey.copy()
    out[small[labels]] = 255
    return out, count


# --- the step ----------------------------------------------------------------------------


def prepare(
    image: Image.Image,
    *,
    dpi: float = 300,
    rotate: int | None = 0,
    deskew: bool = True,
    denoise: bool | None = None,
    resample: bool = True,
    max_pixels: int = MAX_PAGE_PIXELS,
) -> Prepared:
    """Grey, upright, deskewed, despeckled page.

    ``rotate``: clockwise quarter turn to apply, or None to ask Tesseract's OSD.
    ``denoise``: True always, False never, None when the page shows speckle.
    ``resample``: bring pages under 190 or over 450 dpi to 300 dpi.
    ``max_pixels``: the prepared page holds no more pixels than this (a page larger than A3 at
    300 dpi is brought down to it, and one under 190 dpi brought up only that far).
    """
    from extract import tesseract

    grey_img = to_grey(image)
    transform = Transform()
    pixels = grey_img.width * grey_img.height
    factor, new_dpi = 1.0, float(dpi)
    if resample and not (MIN_DPI <= dpi <= MAX_DPI):
        factor, new_dpi = TARGET_DPI / float(dpi), float(TARGET_DPI)
    if pixels * factor * factor > max_pixels:
        factor = math.sqrt(max_pixels / max(pixels, 1))
        new_dpi = float(dpi) * factor
    if factor != 1.0:
        fit = math.floor if pixels * factor * factor >= max_pixels * 0.999 else round  # never past the cap
        size = (max(1, fit(grey_img.width * factor)), max(1, fit(grey_img.height * factor)))
        grey_img = grey_img.resize(size, Image.Resampling.LANCZOS if factor > 1 else Image.Resampling.BOX)
        transform = transform.then(np.array([[factor, 0, 0], [0, factor, 0]]), scale=factor)
        dpi = new_dpi
    if rotate is None:
        rotate = tesseract.detect_orientation(grey_img, dpi=int(dpi))
    rotate %= 360
    if rotate:
        w, h = grey_img.size
        grey_img = rotate_quarter(grey_img, rotate)
        transform = transform.then(_quarter_matrix(rotate, w, h), rotation=rotate)
    grey = normalize_levels(np.asarray(grey_img))
    specks = 0
    if denoise is not False:
        grey, specks = despeckle(grey, dpi, only_if_more_than=0 if denoise else 40)
    if deskew:
        angle = estimate_skew(grey, dpi)
        if abs(angle) >= SKEW_DEADBAND:
            h, w = grey.shape
            m = deskew_matrix(angle, w, h)
            grey = cv2.warpAffine(
                grey, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255
            )
            transform = transform.then(m, skew=angle)
    out = Image.fromarray(np.ascontiguousarray(grey), "L")
    out.info["dpi"] = (dpi, dpi)
    return Prepared(image=out, dpi=float(dpi), transform=transform, specks_removed=specks)
