//! The texts a person at the machine reads, in es-MX or English, chosen by the locale.

/// The language for device-side messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Everything the agent says to a person; one variant per message, both languages here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Initialized { refspec: String },
    UpToDate { version: String },
    Deployed { version: String, checksum: String },
    RolledBack { version: String },
    Refused,
    NoDeployments,
    Default,
    Rollback,
    Booted,
}

impl Msg {
    pub fn text(&self, lang: Lang) -> String {
        use Msg::*;
        match (self, lang) {
            (Initialized { refspec }, Lang::Es) => format!("Listo: este equipo seguirá {refspec}. Ejecute `mxos-update upgrade` para instalar la primera versión."),
            (Initialized { refspec }, Lang::En) => format!("Ready: this machine will follow {refspec}. Run `mxos-update upgrade` to install the first version."),
            (UpToDate { version }, Lang::Es) => format!("El sistema está al día ({version})."),
            (UpToDate { version }, Lang::En) => format!("The system is up to date ({version})."),
            (Deployed { version, checksum }, Lang::Es) => format!("Actualización {version} ({}) instalada y verificada; se usará al reiniciar. La versión anterior queda disponible para regresar.", short(checksum)),
            (Deployed { version, checksum }, Lang::En) => format!("Update {version} ({}) installed and verified; it will be used at the next boot. The previous version stays available for rollback.", short(checksum)),
            (RolledBack { version }, Lang::Es) => format!("Se regresó a la versión {version}; se usará al reiniciar."),
            (RolledBack { version }, Lang::En) => format!("Rolled back to version {version}; it will be used at the next boot."),
            (Refused, Lang::Es) => "Actualización rechazada: no se pudo comprobar que viene de MxOS. El equipo conserva la versión que tenía.".into(),
            (Refused, Lang::En) => "Update refused: it could not be verified as coming from MxOS. The machine keeps the version it had.".into(),
            (NoDeployments, Lang::Es) => "No hay ninguna versión instalada todavía.".into(),
            (NoDeployments, Lang::En) => "No version is installed yet.".into(),
            (Default, Lang::Es) => "predeterminada".into(),
            (Default, Lang::En) => "default".into(),
            (Rollback, Lang::Es) => "anterior (para regresar)".into(),
            (Rollback, Lang::En) => "rollback".into(),
            (Booted, Lang::Es) => "en uso".into(),
            (Booted, Lang::En) => "booted".into(),
        }
    }
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
        assert_eq!(
            Msg::UpToDate {
                version: "10.1".into()
            }
            .text(Lang::Es),
            "El sistema está al día (10.1)."
        );
    }
}
