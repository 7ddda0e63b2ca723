//! Stored files. Uploaded images are decoded and re-encoded: that proves they
//! are images whatever their declared type or name, bounds their size, and
//! strips metadata such as EXIF locations.
use std::io::Cursor;
use std::path::{Component, Path, PathBuf};

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use super::{Ctx, ServiceError, ServiceResult};
use crate::crypto;

#[derive(Debug, Clone, Copy)]
pub enum ProfileImage {
    Avatar,
    Header,
}

impl ProfileImage {
    fn field(self) -> &'static str {
        match self {
            ProfileImage::Avatar => "avatar",
            ProfileImage::Header => "header",
        }
    }
    /// Mastodon's sizes: avatars 400×400, headers 1500×500 (cropped to fill).
    fn size(self) -> (u32, u32) {
        match self {
            ProfileImage::Avatar => (400, 400),
            ProfileImage::Header => (1500, 500),
        }
    }
}

/// Largest decoded image accepted, in pixels per side (decompression bombs).
const MAX_SIDE: u32 = 8192;

/// Decodes, crops to the target shape, re-encodes and stores the image.
/// Returns the file's path relative to the media directory.
pub async fn store_profile_image(
    ctx: &Ctx,
    account_id: i64,
    kind: ProfileImage,
    bytes: Vec<u8>,
) -> ServiceResult<String> {
    let max = ctx.config.media.max_image_bytes;
    if bytes.len() > max {
        return Err(ServiceError::invalid(
            kind.field(),
            "ERR_TOO_LARGE",
            format!("file is too large (maximum is {} MB)", max / (1024 * 1024)),
        ));
    }
    let (w, h) = kind.size();
    let encoded =
        tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, &'static str), String> {
            let img = decode(&bytes)?;
            let img = if img.width() > w || img.height() > h {
                img.resize_to_fill(w, h, image::imageops::FilterType::Lanczos3)
            } else {
                img
            };
            // Photos stay JPEG; everything else (transparency) becomes PNG.
            let (fmt, ext) = match image::guess_format(&bytes) {
                Ok(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "jpg"),
                _ => (ImageFormat::Png, "png"),
            };
            let img = if fmt == ImageFormat::Jpeg {
                DynamicImage::ImageRgb8(img.to_rgb8())
            } else {
                img
            };
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, fmt)
                .map_err(|e| format!("could not encode the image: {e}"))?;
            Ok((out.into_inner(), ext))
        })
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
        .map_err(|msg| ServiceError::invalid(kind.field(), "ERR_INVALID", msg))?;

    let (data, ext) = encoded;
    let rel = format!(
        "accounts/{}/{account_id}-{}.{ext}",
        kind.field(),
        &crypto::random_token()[..10]
    );
    let path = ctx.config.media.path.join(&rel);
    write_atomically(&path, &data)
        .await
        .map_err(ServiceError::Internal)?;
    Ok(rel)
}

fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("could not read the file: {e}"))?;
    if reader.format().is_none_or(|f| {
        !matches!(
            f,
            ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
        )
    }) {
        return Err("is not a supported image (PNG, JPEG, GIF or WebP)".into());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| format!("is not a valid image: {e}"))
}

async fn write_atomically(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, data).await?;
    tokio::fs::rename(&tmp, path).await?;
    Ok(())
}

/// Resolves a stored relative path inside the media directory, refusing escapes.
pub fn resolve(ctx: &Ctx, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    p.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| ctx.config.media.path.join(p))
}

pub async fn remove(ctx: &Ctx, rel: &str) {
    if let Some(p) = resolve(ctx, rel)
        && let Err(e) = tokio::fs::remove_file(&p).await
    {
        tracing::warn!(path = %p.display(), error = %e, "could not remove an old media file");
    }
}

/// The public URL of a stored file.
pub fn url(ctx: &Ctx, rel: &str) -> String {
    format!("{}/media/{rel}", ctx.base_url())
}
