//! Profile photos: PNG, JPEG or WebP in, a square 256-pixel JPEG out.
//! Every picture is read through `images`, which bounds the memory it
//! takes.

use image::imageops::FilterType;

use crate::error::AppError;
use crate::images::{self, Purpose};

pub const SIZE: u32 = 256;

/// Checks, decodes and re-encodes an uploaded photo. Anything that is not a
/// PNG, JPEG or WebP image within `max_bytes` is refused.
pub fn process(bytes: &[u8], max_bytes: usize) -> Result<Vec<u8>, AppError> {
    images::with_decoded(bytes, max_bytes, Purpose::Photo, |img, _| {
        // Centre-crop to a square, then scale.
        let (w, h) = (img.width(), img.height());
        let side = w.min(h);
        let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
        let small = square.resize_exact(SIZE, SIZE, FilterType::Lanczos3);
        images::jpeg(&small, 85)
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::ImageFormat;

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
