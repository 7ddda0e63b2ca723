//! Sanitising remote HTML, and turning typed text into HTML with links,
//! mentions and hashtags. Whatever comes in, what goes out holds no script.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tsunagu::services::text;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for html in [text::sanitize(input), text::plain_to_html(input)] {
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{html}");
        assert!(!lower.contains("javascript:"), "{html}");
        assert!(!lower.contains(" onerror="), "{html}");
    }
    let _ = text::strip_html(input);
    let _ = text::references(input);
});
