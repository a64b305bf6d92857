//! Profile photos: PNG, JPEG or WebP in, a square 256-pixel JPEG out.
//!
//! Every picture comes through here (a person's photo, a community's
//! picture, a remote actor's icon), so this is where memory is bounded: the
//! dimensions an image declares are read from its header before anything is
//! decoded, and only [`MAX_DECODING`] images are decoded at once in the
//! process, whatever arrives.

use std::io::Cursor;
use std::sync::{Condvar, Mutex};

use image::{imageops::FilterType, ImageFormat, ImageReader, Limits};

use crate::error::{AppError, ErrorKind};

pub const SIZE: u32 = 256;

/// Largest side a photo may declare: what a phone camera takes.
pub const MAX_SIDE: u32 = 8192;
/// Most pixels a photo may declare (a 48-megapixel camera), about 192 MB
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

/// Checks, decodes and re-encodes an uploaded photo. Anything that is not a
/// PNG, JPEG or WebP image within `max_bytes` is refused.
pub fn process(bytes: &[u8], max_bytes: usize) -> Result<Vec<u8>, AppError> {
    if bytes.is_empty() {
        return Err(AppError::bad_request("photo_empty"));
    }
    if bytes.len() > max_bytes {
        return Err(AppError::new(ErrorKind::PayloadTooLarge, "photo_too_large")
            .with("max_mb", max_bytes / (1024 * 1024)));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(AppError::internal)?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => return Err(AppError::new(ErrorKind::UnsupportedMedia, "photo_type")),
    }
    // The header first: a small file may declare a huge image.
    let (w, h) = ImageReader::with_format(
        Cursor::new(bytes),
        reader.format().unwrap_or(ImageFormat::Png),
    )
    .into_dimensions()
    .map_err(|_| AppError::bad_request("photo_invalid"))?;
    if w == 0 || h == 0 {
        return Err(AppError::bad_request("photo_invalid"));
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(AppError::bad_request("photo_dimensions")
            .with("max", MAX_SIDE)
            .with("width", w)
            .with("height", h));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + 16 * 1024 * 1024);
    reader.limits(limits);
    let _slot = Slot::take();
    let img = reader
        .decode()
        .map_err(|_| AppError::bad_request("photo_invalid"))?;
    // Centre-crop to a square, then scale.
    let (w, h) = (img.width(), img.height());
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let small = square
        .resize_exact(SIZE, SIZE, FilterType::Lanczos3)
        .to_rgb8();
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    small
        .write_with_encoder(encoder)
        .map_err(AppError::internal)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 10, 10, 255]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn png_is_reencoded_to_square_jpeg() {
        let out = process(&png(600, 300), 5 << 20).unwrap();
        let img = image::load_from_memory(&out).unwrap();
        assert_eq!((img.width(), img.height()), (SIZE, SIZE));
        assert_eq!(image::guess_format(&out).unwrap(), ImageFormat::Jpeg);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn refusals() {
        assert_eq!(process(b"", 100).unwrap_err().code, "photo_empty");
        assert_eq!(
            process(&png(10, 10), 10).unwrap_err().code,
            "photo_too_large"
        );
        assert_eq!(process(b"GIF89a....", 1000).unwrap_err().code, "photo_type");
        assert_eq!(
            process(b"%PDF-1.4 hello", 1000).unwrap_err().code,
            "photo_type"
        );
        // A small file declaring a huge image is refused from its header.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(process(&bomb, 1000).unwrap_err().code, "photo_dimensions");
        let mut broken = png(10, 10);
        broken.truncate(40);
        assert_eq!(process(&broken, 1000).unwrap_err().code, "photo_invalid");
    }
}
