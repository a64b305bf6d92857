//! Profile photos: PNG, JPEG or WebP in, a square 256-pixel JPEG out.

use std::io::Cursor;

use image::{imageops::FilterType, ImageFormat, ImageReader, Limits};

use crate::error::{AppError, ErrorKind};

pub const SIZE: u32 = 256;

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
    let mut limits = Limits::default();
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
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
        let mut broken = png(10, 10);
        broken.truncate(40);
        assert_eq!(process(&broken, 1000).unwrap_err().code, "photo_invalid");
    }
}
