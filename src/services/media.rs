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
/// Most pixels an image may declare (Mastodon's matrix limit, 7680×4320).
/// Checked from the header before anything is decoded: a 1 MB PNG declaring
/// 16384×16384 would otherwise take gigabytes.
pub const MAX_DECODE_PIXELS: u64 = 33_177_600;
/// Most bytes one decoder may allocate (an image at the pixel limit, RGBA
/// at 16 bits per channel, fits).
const MAX_DECODE_ALLOC: u64 = 300 * 1024 * 1024;
/// Images decoded at once in this process: each may take a few hundred MB,
/// so a burst of uploads queues here instead of multiplying the peak.
static IMAGE_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The image's declared size, read from its header only, within the pixel
/// limit; else the error code (`ERR_INVALID`, `ERR_TOO_LARGE`) and why.
fn check_pixels(bytes: &[u8]) -> Result<(u32, u32), (&'static str, String)> {
    let (w, h) = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ("ERR_INVALID", format!("could not read the file: {e}")))?
        .into_dimensions()
        .map_err(|e| ("ERR_INVALID", format!("is not a valid image: {e}")))?;
    if u64::from(w) * u64::from(h) > MAX_DECODE_PIXELS {
        return Err((
            "ERR_TOO_LARGE",
            format!(
                "is too large: {w}×{h} pixels (at most {} megapixels)",
                MAX_DECODE_PIXELS / 1_000_000
            ),
        ));
    }
    Ok((w, h))
}

fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE * 2);
    limits.max_image_height = Some(MAX_SIDE * 2);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

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
    check_pixels(&bytes).map_err(|(code, msg)| ServiceError::invalid(kind.field(), code, msg))?;
    let (w, h) = kind.size();
    let _slot = IMAGE_SLOTS
        .acquire()
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?;
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
    reader.limits(decode_limits());
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

// ---- Status attachments --------------------------------------------------------

use crate::db::models::{LocalUser, MediaAttachment};
use crate::ids;

pub const MAX_DESCRIPTION: usize = 1500;
/// Largest stored original, in pixels (Mastodon's image matrix limit).
const MAX_PIXELS: u64 = 16_777_216;
const SMALL_SIDE: u32 = 640;

#[derive(Debug, Clone, Default)]
pub struct NewAttachment {
    pub bytes: Vec<u8>,
    pub description: Option<String>,
    pub focus: Option<String>,
}

/// "x,y" with both in [-1, 1].
fn parse_focus(focus: Option<&str>) -> ServiceResult<(f64, f64)> {
    let Some(f) = focus.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok((0.0, 0.0));
    };
    let bad = || {
        ServiceError::invalid(
            "focus",
            "ERR_INVALID",
            "must be two numbers from -1.0 to 1.0, like \"0.5,-0.25\"",
        )
    };
    let (x, y) = f.split_once(',').ok_or_else(bad)?;
    let (x, y): (f64, f64) = (
        x.trim().parse().map_err(|_| bad())?,
        y.trim().parse().map_err(|_| bad())?,
    );
    if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
        return Err(bad());
    }
    Ok((x, y))
}

fn check_description(d: &Option<String>) -> ServiceResult<()> {
    if d.as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(ServiceError::invalid(
            "description",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_DESCRIPTION} characters)"),
        ));
    }
    Ok(())
}

/// Accepts an upload: checks size and type at once, then processes it in the
/// background. Returns the row, processed if that finished within
/// `media.processing_wait_ms` (the API answers 200), else still processing (202).
pub async fn upload(
    ctx: &Ctx,
    me: &LocalUser,
    new: NewAttachment,
) -> ServiceResult<MediaAttachment> {
    let max = ctx.config.media.max_image_bytes;
    if new.bytes.is_empty() {
        return Err(ServiceError::invalid("file", "ERR_BLANK", "can't be blank"));
    }
    if new.bytes.len() > max {
        return Err(ServiceError::invalid(
            "file",
            "ERR_TOO_LARGE",
            format!("is too large (maximum is {} MB)", max / (1024 * 1024)),
        ));
    }
    match image::guess_format(&new.bytes) {
        Ok(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP) => {}
        _ => {
            return Err(ServiceError::invalid(
                "file",
                "ERR_INVALID",
                "is not a supported file type (PNG, JPEG, GIF or WebP)",
            ));
        }
    }
    check_pixels(&new.bytes).map_err(|(code, msg)| ServiceError::invalid("file", code, msg))?;
    check_description(&new.description)?;
    let focus = parse_focus(new.focus.as_deref())?;
    let now = ids::now();
    let row = MediaAttachment {
        id: ids::next_id(),
        account_id: me.account.id,
        status_id: None,
        kind: crate::domain::MediaKind::Image,
        file: None,
        preview_file: None,
        remote_url: None,
        description: new.description.unwrap_or_default(),
        focus_x: focus.0,
        focus_y: focus.1,
        meta: "{}".into(),
        blurhash: None,
        state: crate::domain::MediaState::Processing,
        error: None,
        position: 0,
        created_at: now,
        updated_at: now,
    };
    let mut conn = ctx.conn().await?;
    crate::db::media::insert(&mut conn, &row).await?;
    drop(conn);
    let task = tokio::spawn(process(ctx.clone(), row.clone(), new.bytes));
    let wait = std::time::Duration::from_millis(ctx.config.media.processing_wait_ms);
    let _ = tokio::time::timeout(wait, task).await;
    let mut conn = ctx.conn().await?;
    crate::db::media::find(&mut conn, row.id)
        .await?
        .ok_or_else(ServiceError::not_found)
}

struct Processed {
    original: Vec<u8>,
    small: Vec<u8>,
    ext: &'static str,
    meta: MediaMeta,
    blurhash: Option<String>,
}

/// An attachment's `meta` as stored (Mastodon's entity field): the sizes
/// of the original and the preview, when known.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MediaMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<ImageSize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small: Option<ImageSize>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
    pub size: String,
    pub aspect: f64,
}

impl ImageSize {
    pub fn new(width: u32, height: u32) -> ImageSize {
        ImageSize {
            width,
            height,
            size: format!("{width}x{height}"),
            aspect: f64::from(width) / f64::from(height.max(1)),
        }
    }
}

impl MediaMeta {
    /// The stored text read back; anything unreadable is "sizes unknown".
    pub fn parse(text: &str) -> MediaMeta {
        serde_json::from_str(text).unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Decodes (honouring EXIF orientation), bounds, re-encodes (dropping all
/// metadata), makes the preview and the blurhash.
fn process_image(bytes: &[u8]) -> Result<Processed, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("could not read the file: {e}"))?;
    check_pixels(bytes).map_err(|(_, msg)| msg)?;
    reader.limits(decode_limits());
    let format = reader.format();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("is not a valid image: {e}"))?;
    let orientation = image::ImageDecoder::orientation(&mut decoder)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| format!("is not a valid image: {e}"))?;
    img.apply_orientation(orientation);
    if (img.width() as u64) * (img.height() as u64) > MAX_PIXELS {
        let scale = (MAX_PIXELS as f64 / (img.width() as f64 * img.height() as f64)).sqrt();
        img = img.resize(
            (img.width() as f64 * scale) as u32,
            (img.height() as f64 * scale) as u32,
            image::imageops::FilterType::Triangle,
        );
    }
    let (fmt, ext) = match format {
        Some(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "jpg"),
        _ => (ImageFormat::Png, "png"),
    };
    let encode = |im: &DynamicImage| -> Result<Vec<u8>, String> {
        let im = if fmt == ImageFormat::Jpeg {
            DynamicImage::ImageRgb8(im.to_rgb8())
        } else {
            im.clone()
        };
        let mut out = Cursor::new(Vec::new());
        im.write_to(&mut out, fmt)
            .map_err(|e| format!("could not encode the image: {e}"))?;
        Ok(out.into_inner())
    };
    let small = img.thumbnail(SMALL_SIDE, SMALL_SIDE);
    let tiny = img.thumbnail(32, 32).to_rgba8();
    let blurhash = blurhash::encode(4, 3, tiny.width(), tiny.height(), tiny.as_raw()).ok();
    Ok(Processed {
        original: encode(&img)?,
        small: encode(&small)?,
        ext,
        meta: MediaMeta {
            original: Some(ImageSize::new(img.width(), img.height())),
            small: Some(ImageSize::new(small.width(), small.height())),
        },
        blurhash,
    })
}

/// A fresh directory for one attachment's files: random, so that a file's
/// address cannot be guessed from the time it was posted (ids are
/// time-sortable) and a private post's photo is found only through the post.
fn random_dir() -> String {
    format!("attachments/{}", &crypto::random_token()[..24])
}

async fn process(ctx: Ctx, mut row: MediaAttachment, bytes: Vec<u8>) {
    let outcome = match IMAGE_SLOTS.acquire().await {
        Ok(_slot) => tokio::task::spawn_blocking(move || process_image(&bytes))
            .await
            .unwrap_or_else(|e| Err(e.to_string())),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(p) => {
            let dir = random_dir();
            let (orig, small) = (
                format!("{dir}/original.{}", p.ext),
                format!("{dir}/small.{}", p.ext),
            );
            let written = async {
                write_atomically(&ctx.config.media.path.join(&orig), &p.original).await?;
                write_atomically(&ctx.config.media.path.join(&small), &p.small).await
            }
            .await;
            match written {
                Ok(()) => {
                    row.file = Some(orig);
                    row.preview_file = Some(small);
                    row.meta = p.meta.to_text();
                    row.blurhash = p.blurhash;
                    row.state = crate::domain::MediaState::Ready;
                }
                Err(e) => {
                    tracing::error!(media = row.id, error = %e, "could not store media");
                    row.state = crate::domain::MediaState::Failed;
                    row.error = Some("could not be stored".into());
                }
            }
        }
        Err(msg) => {
            row.state = crate::domain::MediaState::Failed;
            row.error = Some(msg);
        }
    }
    row.updated_at = ids::now();
    match ctx.conn().await {
        Ok(mut conn) => {
            if let Err(e) = crate::db::media::finish(&mut conn, &row).await {
                tracing::error!(media = row.id, error = %e, "could not record processed media");
            }
        }
        Err(e) => tracing::error!(media = row.id, error = %e, "could not record processed media"),
    }
}

/// One's own attachment.
pub async fn get_own(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<MediaAttachment> {
    let mut conn = ctx.conn().await?;
    match crate::db::media::find(&mut conn, id).await? {
        Some(a) if a.account_id == me.account.id => Ok(a),
        _ => Err(ServiceError::not_found()),
    }
}

pub async fn describe(
    ctx: &Ctx,
    me: &LocalUser,
    id: i64,
    description: Option<String>,
    focus: Option<String>,
) -> ServiceResult<MediaAttachment> {
    let a = get_own(ctx, me, id).await?;
    check_description(&description)?;
    let focus = match focus {
        Some(f) => parse_focus(Some(&f))?,
        None => (a.focus_x, a.focus_y),
    };
    let description = description.unwrap_or(a.description);
    let mut conn = ctx.conn().await?;
    crate::db::media::describe(&mut conn, id, &description, focus, ids::now()).await?;
    drop(conn);
    get_own(ctx, me, id).await
}

/// Checks `ids` for a status: one's own, processed, not used by another status; at most 4.
pub async fn for_status(
    ctx: &Ctx,
    me: &LocalUser,
    ids: &[i64],
    status_id: Option<i64>,
) -> ServiceResult<Vec<i64>> {
    if ids.len() > 4 {
        return Err(ServiceError::invalid(
            "media_ids",
            "ERR_TOO_LONG",
            "can attach at most 4 files",
        ));
    }
    let mut conn = ctx.conn().await?;
    let found = crate::db::media::find_many(&mut conn, ids).await?;
    for id in ids {
        let ok = found.iter().any(|a| {
            a.id == *id
                && a.account_id == me.account.id
                && a.state == crate::domain::MediaState::Ready
                && (a.status_id.is_none() || a.status_id == status_id)
        });
        if !ok {
            return Err(ServiceError::invalid(
                "media_ids",
                "ERR_INVALID",
                format!("{id} is not a processed attachment of yours"),
            ));
        }
    }
    Ok(ids.to_vec())
}

/// After a status was deleted: its attachments' files move to fresh random
/// names at once, so their old addresses die with the post, while the rows
/// stay for a day so a "delete and redraft" can attach them again (as
/// Mastodon keeps them); `remove_now` (`delete_media=true`) removes them.
pub async fn status_deleted(ctx: &Ctx, attachments: Vec<MediaAttachment>, remove_now: bool) {
    for mut a in attachments.into_iter().filter(|a| a.file.is_some()) {
        if remove_now {
            remove_attachment(ctx, &a).await;
            continue;
        }
        let dir = random_dir();
        let mut moved = true;
        for f in [&mut a.file, &mut a.preview_file].into_iter() {
            let Some(old) = f.clone() else { continue };
            let name = old.rsplit('/').next().unwrap_or("file").to_owned();
            let new = format!("{dir}/{name}");
            let (Some(from), Some(to)) = (resolve(ctx, &old), resolve(ctx, &new)) else {
                moved = false;
                continue;
            };
            let renamed = async {
                tokio::fs::create_dir_all(ctx.config.media.path.join(&dir)).await?;
                tokio::fs::rename(&from, &to).await
            }
            .await;
            match renamed {
                Ok(()) => *f = Some(new),
                Err(e) => {
                    tracing::warn!(media = a.id, error = %e, "could not move a deleted post's file");
                    moved = false;
                }
            }
        }
        a.updated_at = ids::now();
        let recorded = match ctx.conn().await {
            Ok(mut conn) => crate::db::media::finish(&mut conn, &a).await.is_ok(),
            Err(_) => false,
        };
        if !moved || !recorded {
            remove_attachment(ctx, &a).await;
        }
    }
}

/// Removes an unattached attachment: its row (only while still unattached),
/// then its files.
async fn remove_attachment(ctx: &Ctx, a: &MediaAttachment) {
    let removed = match ctx.conn().await {
        Ok(mut conn) => crate::db::media::delete_unattached(&mut conn, a.id)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.detail()),
    };
    match removed {
        Ok(true) => remove_files(ctx, a).await,
        Ok(false) => {}
        Err(e) => tracing::warn!(media = a.id, error = %e, "could not remove an attachment"),
    }
}

async fn remove_files(ctx: &Ctx, a: &MediaAttachment) {
    for f in [&a.file, &a.preview_file].into_iter().flatten() {
        remove(ctx, f).await;
    }
    if let Some(dir) = a
        .file
        .as_deref()
        .and_then(|f| f.rsplit_once('/'))
        .map(|(d, _)| d)
        && let Some(p) = resolve(ctx, dir)
    {
        let _ = tokio::fs::remove_dir(p).await;
    }
}

/// How long an upload may stay unattached (never posted, or its post
/// deleted) before it is removed.
pub const UNATTACHED_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Removes uploads unattached since before `before` (a batch at a time);
/// returns how many went.
pub async fn remove_unattached(ctx: &Ctx, before: chrono::NaiveDateTime) -> ServiceResult<usize> {
    let mut conn = ctx.conn().await?;
    let stale = crate::db::media::unattached_before(&mut conn, before, 200).await?;
    drop(conn);
    let n = stale.len();
    for a in stale {
        remove_attachment(ctx, &a).await;
    }
    Ok(n)
}

/// Removes every attachment of an account being erased, files and rows.
pub async fn account_erased(ctx: &Ctx, attachments: Vec<MediaAttachment>) {
    for a in attachments {
        remove_attachment(ctx, &a).await;
    }
}
