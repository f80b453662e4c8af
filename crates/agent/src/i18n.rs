//! The one catalogue of everything `mxos-update` says to a person: results, refusals, errors
//! and its command-line help, in es-MX and English.
//!
//! The texts live in Fluent files (`locales/es-MX/mxos-update.ftl`, `locales/en/…`) compiled
//! into the binary, so a machine without its locale files still speaks Spanish. Code names a
//! message by id with [`t!`](crate::t); a [`Text`] is rendered when it is shown, in the
//! language of the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`). A `Text` is also an error and an
//! `anyhow` context, so refusals and failures go through the same catalogue.

use std::fmt;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The catalogues as shipped; the test suite walks both.
pub const CATALOGUES: [(Lang, &str); 2] = [
    (Lang::Es, include_str!("../locales/es-MX/mxos-update.ftl")),
    (Lang::En, include_str!("../locales/en/mxos-update.ftl")),
];

/// The language for device-side messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    /// From `LC_ALL`, `LC_MESSAGES`, `LANG` in that order (POSIX precedence); Spanish for
    /// any `es*` locale, English otherwise.
    pub fn from_env() -> Lang {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| get(k))
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        if locale.starts_with("es") {
            Lang::Es
        } else {
            Lang::En
        }
    }

    /// The BCP 47 tag of the catalogue.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Es => "es-MX",
            Lang::En => "en",
        }
    }
}

static PROCESS_LANG: OnceLock<Lang> = OnceLock::new();

/// Sets the language `Display` renders [`Text`] in, once, before anything is printed; the
/// libraries' own tests never call it and so read English.
pub fn set_process_lang(lang: Lang) {
    let _ = PROCESS_LANG.set(lang);
}

pub fn process_lang() -> Lang {
    PROCESS_LANG.get().copied().unwrap_or(Lang::En)
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static ES: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let cell = match lang {
        Lang::Es => &ES,
        Lang::En => &EN,
    };
    cell.get_or_init(|| {
        let source = CATALOGUES
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        // The catalogue is part of the binary; the test suite proves it parses.
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
        let tag: unic_langid::LanguageIdentifier = lang.tag().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![tag]);
        // Unicode isolation marks would end up in logs, JSON and the serial console.
        bundle.set_use_isolating(false);
        let _ = bundle.add_resource(resource);
        bundle
    })
}

/// One message of the catalogue with its arguments, rendered when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    id: &'static str,
    args: Vec<(&'static str, Arg)>,
}

/// An argument: plain text (a path, a version), or a message rendered in the same language.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Plain(String),
    Text(Text),
}

impl Text {
    pub fn new(id: &'static str) -> Text {
        Text {
            id,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Text {
        self.args.push((name, Arg::Plain(value.to_string())));
        self
    }

    /// A message as an argument: it follows this one's language.
    pub fn nested(mut self, name: &'static str, value: Text) -> Text {
        self.args.push((name, Arg::Text(value)));
        self
    }

    pub fn id(&self) -> &'static str {
        self.id
    }

    /// Whether `lang`'s catalogue has this message (every shipped one does; tests check).
    pub fn exists(id: &str, lang: Lang) -> bool {
        bundle(lang).has_message(id)
    }

    /// The text in `lang`; a message missing there falls back to English, then to its id,
    /// so a gap in a catalogue never hides what happened.
    pub fn render(&self, lang: Lang) -> String {
        let mut args = FluentArgs::new();
        for (k, v) in &self.args {
            let v = match v {
                Arg::Plain(s) => s.clone(),
                Arg::Text(t) => t.render(lang),
            };
            args.set(*k, FluentValue::from(v));
        }
        for lang in [lang, Lang::En] {
            let b = bundle(lang);
            if let Some(pattern) = b.get_message(self.id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return b
                    .format_pattern(pattern, Some(&args), &mut errors)
                    .into_owned();
            }
        }
        let args: Vec<String> = self
            .args
            .iter()
            .map(|(k, v)| match v {
                Arg::Plain(s) => format!("{k}={s}"),
                Arg::Text(t) => format!("{k}={}", t.render(lang)),
            })
            .collect();
        format!("{} {}", self.id, args.join(" "))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(process_lang()))
    }
}

impl std::error::Error for Text {}

/// `t!` takes a message id and `name = value` arguments: a [`Text`] of the catalogue.
#[macro_export]
macro_rules! t {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::Text::new($id)$(.arg(stringify!($name), $value))*
    };
}

/// `Err(t!(…))?` in a function returning `anyhow::Result`.
#[macro_export]
macro_rules! refuse {
    ($($t:tt)*) => {
        return Err(::anyhow::Error::new($crate::t!($($t)*)))
    };
}

/// A message looked up by an id made at run time (the `cli-*` help texts); `None` when
/// `lang`'s catalogue lacks it.
pub fn lookup(id: &str, lang: Lang) -> Option<String> {
    let b = bundle(lang);
    let pattern = b.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(b.format_pattern(pattern, None, &mut errors).into_owned())
}

pub fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_precedence_and_fallback() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_vars(env(&[("LANG", "es_MX.UTF-8")])), Lang::Es);
        assert_eq!(
            Lang::from_vars(env(&[("LANG", "es_MX.UTF-8"), ("LC_ALL", "C")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_vars(env(&[("LC_ALL", ""), ("LANG", "es_ES")])),
            Lang::Es
        );
        assert_eq!(Lang::from_vars(env(&[])), Lang::En);
    }

    #[test]
    fn renders_with_arguments_and_falls_back() {
        let up = crate::t!("up-to-date-version", version = "10.1");
        assert_eq!(up.render(Lang::Es), "El sistema está al día (10.1).");
        assert_eq!(up.render(Lang::En), "The system is up to date (10.1).");
        assert_eq!(up.to_string(), "The system is up to date (10.1).");
        assert_eq!(
            Text::new("no-such-message").arg("x", 1).render(Lang::Es),
            "no-such-message x=1"
        );
    }
}
