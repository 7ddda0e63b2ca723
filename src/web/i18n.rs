//! Japanese and English UI text (Fluent). The language is chosen by an
//! explicit choice (`?lang=`, remembered in a cookie), then the signed-in
//! account's setting, then Accept-Language.
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

pub const LOCALES: &[(&str, &str)] = &[
    ("en", include_str!("locales/en.ftl")),
    ("ja", include_str!("locales/ja.ftl")),
];
pub const DEFAULT: &str = "en";

pub struct I18n {
    bundles: Vec<(&'static str, FluentBundle<FluentResource>)>,
}

impl I18n {
    pub fn new() -> anyhow::Result<I18n> {
        let mut bundles = Vec::new();
        for (code, src) in LOCALES {
            let res = FluentResource::try_new((*src).to_owned())
                .map_err(|(_, errs)| anyhow::anyhow!("locale {code}: {errs:?}"))?;
            let mut b = FluentBundle::new_concurrent(vec![code.parse()?]);
            // No Unicode isolation marks: the text goes into HTML and plain mail.
            b.set_use_isolating(false);
            b.add_resource(res)
                .map_err(|errs| anyhow::anyhow!("locale {code}: {errs:?}"))?;
            bundles.push((*code, b));
        }
        Ok(I18n { bundles })
    }

    fn bundle(&self, lang: &str) -> &FluentBundle<FluentResource> {
        self.bundles
            .iter()
            .find(|(c, _)| *c == lang)
            .or_else(|| self.bundles.first())
            .map(|(_, b)| b)
            .expect("at least one locale")
    }

    /// The message `id` in `lang` (English if missing), with named arguments.
    pub fn t(&self, lang: &str, id: &str, args: &[(&str, String)]) -> String {
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            // Counts as numbers, so that plural selectors work.
            match v.parse::<i64>() {
                Ok(n) => fargs.set(*k, n),
                Err(_) => fargs.set(*k, v.clone()),
            }
        }
        for b in [self.bundle(lang), self.bundle(DEFAULT)] {
            if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
                let mut errs = vec![];
                return b
                    .format_pattern(pattern, Some(&fargs), &mut errs)
                    .into_owned();
            }
        }
        id.to_owned()
    }
}

fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    LOCALES.iter().map(|(c, _)| *c).find(|c| *c == primary)
}

/// Picks the UI language.
pub fn negotiate(
    explicit: Option<&str>,
    accept_language: Option<&str>,
    account: Option<&str>,
) -> &'static str {
    if let Some(l) = explicit.and_then(supported) {
        return l;
    }
    if let Some(l) = account.and_then(supported) {
        return l;
    }
    if let Some(header) = accept_language {
        let mut prefs: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(l) = prefs
            .iter()
            .filter(|(q, _)| *q > 0.0)
            .find_map(|(_, t)| supported(t))
        {
            return l;
        }
    }
    DEFAULT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> Vec<&str> {
        let mut v: Vec<&str> = src
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .filter(|k| !k.starts_with(' '))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_locale_has_every_message() {
        let en = ids(LOCALES[0].1);
        for (code, src) in LOCALES {
            assert_eq!(ids(src), en, "locale {code} differs from English");
        }
    }

    #[test]
    fn negotiation_order() {
        assert_eq!(negotiate(None, Some("ja-JP,ja;q=0.9,en;q=0.8"), None), "ja");
        assert_eq!(
            negotiate(None, Some("fr-FR, en;q=0.5, ja;q=0.7"), None),
            "ja"
        );
        assert_eq!(negotiate(Some("en"), Some("ja"), None), "en");
        assert_eq!(negotiate(None, Some("fr"), Some("ja")), "ja");
        // The account's setting before the browser's.
        assert_eq!(negotiate(None, Some("en"), Some("ja")), "ja");
        assert_eq!(negotiate(Some("en"), Some("ja"), Some("ja")), "en");
        assert_eq!(negotiate(None, None, None), "en");
    }

    #[test]
    fn formats_arguments() {
        let i = I18n::new().unwrap();
        assert_eq!(
            i.t("ja", "authorize-title", &[("app", "Tusky".into())]),
            "Tusky を承認"
        );
        assert_eq!(
            i.t("en", "authorize-title", &[("app", "Tusky".into())]),
            "Authorize Tusky"
        );
    }
}
