//! Pictures that arrive from outside — a person's photo, a community's
//! picture, a remote actor's icon, a picture attached to a post — are read
//! here, and only here, so that this is where memory is bounded: the
//! dimensions an image declares are read from its header before anything
//! is decoded, decoding itself is capped by [`Limits`], and only
//! [`MAX_DECODING`] images are worked on at once in the process, whatever
//! arrives. Only PNG, JPEG and WebP are read; what comes out is always
//! re-encoded by the caller, which drops EXIF and every other metadata
//! (the orientation a camera recorded is applied first).

use std::io::Cursor;
use std::sync::{Condvar, Mutex};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::{AppError, ErrorKind};

/// Largest side an image may declare: what a phone camera takes.
pub const MAX_SIDE: u32 = 8192;
/// Most pixels an image may declare (a 48-megapixel camera), about 192 MB
/// once decoded.
pub const MAX_PIXELS: u64 = 48_000_000;
/// Images decoded at once by this process.
pub const MAX_DECODING: usize = 2;

/// A counting semaphore for the blocking threads that decode images.
struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
}

static DECODING: Slots = Slots {
    used: Mutex::new(0),
    freed: Condvar::new(),
};

/// A decoding slot, given back when dropped.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let mut used = DECODING.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= MAX_DECODING {
            used = DECODING.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut used = DECODING.used.lock().unwrap_or_else(|e| e.into_inner());
        *used -= 1;
        DECODING.freed.notify_one();
    }
}

/// What a picture is for: its errors name it (`photo_*` or `image_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Photo,
    Image,
}

impl Purpose {
    fn code(self, what: &str) -> &'static str {
        match (self, what) {
            (Purpose::Photo, "empty") => "photo_empty",
            (Purpose::Photo, "too_large") => "photo_too_large",
            (Purpose::Photo, "type") => "photo_type",
            (Purpose::Photo, "dimensions") => "photo_dimensions",
            (Purpose::Photo, _) => "photo_invalid",
            (Purpose::Image, "empty") => "image_empty",
            (Purpose::Image, "too_large") => "image_too_large",
            (Purpose::Image, "type") => "image_type",
            (Purpose::Image, "dimensions") => "image_dimensions",
            (Purpose::Image, _) => "image_invalid",
        }
    }
}

/// Whether `bytes` begin like a PNG, JPEG or WebP image.
pub fn looks_like_image(bytes: &[u8]) -> bool {
    matches!(
        image::guess_format(bytes),
        Ok(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)
    )
}

/// Checks `bytes` (at most `max_bytes`, a PNG, JPEG or WebP image of
/// sensible dimensions), decodes it upright, and hands it to `work` while
/// holding one of the process's decoding slots.
pub fn with_decoded<T>(
    bytes: &[u8],
    max_bytes: usize,
    purpose: Purpose,
    work: impl FnOnce(DynamicImage, ImageFormat) -> Result<T, AppError>,
) -> Result<T, AppError> {
    if bytes.is_empty() {
        return Err(AppError::bad_request(purpose.code("empty")));
    }
    if bytes.len() > max_bytes {
        return Err(
            AppError::new(ErrorKind::PayloadTooLarge, purpose.code("too_large"))
                .with("max_mb", max_bytes.div_ceil(1024 * 1024)),
        );
    }
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)) => f,
        _ => {
            return Err(AppError::new(
                ErrorKind::UnsupportedMedia,
                purpose.code("type"),
            ))
        }
    };
    let invalid = || AppError::bad_request(purpose.code("invalid"));
    // The header first: a small file may declare a huge image.
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| invalid())?;
    if w == 0 || h == 0 {
        return Err(invalid());
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(AppError::bad_request(purpose.code("dimensions"))
            .with("max", MAX_SIDE)
            .with("width", w)
            .with("height", h));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + 16 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let _slot = Slot::take();
    let mut decoder = reader.into_decoder().map_err(|_| invalid())?;
    // A camera's "rotate me" is applied, since the metadata saying it goes.
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| invalid())?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    work(img, format)
}

/// Encodes `img` as a JPEG of the given quality (no metadata).
pub fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.to_rgb8()
        .write_with_encoder(encoder)
        .map_err(AppError::internal)?;
    Ok(out)
}

/// Encodes `img` as a PNG (no metadata), for pictures with transparency.
pub fn png(img: &DynamicImage) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    img.to_rgba8()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(AppError::internal)?;
    Ok(out)
}
