//! One-line apt sources (`deb [OPTIONS] URI SUITE [COMPONENT...]`) as the `apt-sources` key
//! takes them: checked here when the treefile loads, so that a typo is an error naming the
//! key instead of an apt failure minutes into a compose.

/// An `apt-sources` entry, split as apt reads a line of `sources.list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    /// `deb` or `deb-src`.
    pub kind: String,
    /// What stood between `[` and `]`, e.g. `trusted=yes`.
    pub options: Vec<String>,
    pub uri: String,
    /// A suite under `dists/`, or a path ending in `/` for a flat repository (`./`).
    pub suite: String,
    /// Empty exactly when the repository is flat.
    pub components: Vec<String>,
}

/// What an entry must look like, for error messages.
pub const ACCEPTED: &str = "a one-line sources.list entry `deb [OPTIONS] URI SUITE [COMPONENT...]`, e.g. `deb [trusted=yes] file:///srv/mxos-repo ./` or `deb https://deb.example.mx/mxos bookworm main`";

impl AptSource {
    pub fn parse(line: &str) -> Result<AptSource, String> {
        let bad = |why: &str| format!("`{line}` {why}; accepted: {ACCEPTED}");
        let line_trim = line.trim();
        let (kind, rest) = line_trim
            .split_once(char::is_whitespace)
            .unwrap_or((line_trim, ""));
        if kind != "deb" && kind != "deb-src" {
            return Err(bad("does not start with `deb` or `deb-src`"));
        }
        let mut rest = rest.trim_start();
        let mut options = Vec::new();
        if let Some(after) = rest.strip_prefix('[') {
            let Some((inside, tail)) = after.split_once(']') else {
                return Err(bad("opens `[` without closing it"));
            };
            for opt in inside.split_whitespace() {
                if !opt.contains('=') {
                    return Err(bad(&format!("has the option `{opt}` without `=VALUE`")));
                }
                options.push(opt.to_owned());
            }
            rest = tail;
        }
        let mut words = rest.split_whitespace();
        let uri = words.next().ok_or_else(|| bad("has no URI"))?;
        match uri.split_once(':') {
            Some((scheme, _))
                if !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) => {}
            _ => return Err(bad(&format!("has `{uri}` where the URI goes"))),
        }
        let suite = words.next().ok_or_else(|| bad("has no suite"))?;
        let components: Vec<String> = words.map(str::to_owned).collect();
        if suite.ends_with('/') && !components.is_empty() {
            return Err(bad("names components after a flat repository's path"));
        }
        if !suite.ends_with('/') && components.is_empty() {
            return Err(bad(&format!(
                "has no component after the suite `{suite}` (a flat repository's path ends in `/`)"
            )));
        }
        Ok(AptSource {
            kind: kind.to_owned(),
            options,
            uri: uri.to_owned(),
            suite: suite.to_owned(),
            components,
        })
    }

    /// Where apt finds this source's release files (`InRelease`, `Release`) and, for a flat
    /// repository, its `Packages`.
    pub fn index_dir(&self) -> String {
        let base = self.uri.trim_end_matches('/');
        if self.is_flat() {
            format!("{base}/{}", self.suite.trim_end_matches('/'))
        } else {
            format!("{base}/dists/{}", self.suite)
        }
    }

    pub fn is_flat(&self) -> bool {
        self.components.is_empty()
    }

    /// The entry as one sources.list line, with `uri` in place of the written one.
    pub fn line_with_uri(&self, uri: &str) -> String {
        let mut parts = vec![self.kind.clone()];
        if !self.options.is_empty() {
            parts.push(format!("[{}]", self.options.join(" ")));
        }
        parts.push(uri.to_owned());
        parts.push(self.suite.clone());
        parts.extend(self.components.iter().cloned());
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_dists_entries() {
        let flat = AptSource::parse("deb [trusted=yes] file:///srv/repo ./").unwrap();
        assert_eq!(flat.options, ["trusted=yes"]);
        assert_eq!(flat.index_dir(), "file:///srv/repo/.");
        assert!(flat.is_flat());
        assert_eq!(
            flat.line_with_uri("copy:///srv/repo"),
            "deb [trusted=yes] copy:///srv/repo ./"
        );
        let dists = AptSource::parse(
            "deb  [ arch=amd64 signed-by=/k.gpg ]  https://d.mx/mxos/ bookworm main contrib",
        )
        .unwrap();
        assert_eq!(dists.options, ["arch=amd64", "signed-by=/k.gpg"]);
        assert_eq!(dists.index_dir(), "https://d.mx/mxos/dists/bookworm");
        assert_eq!(dists.components, ["main", "contrib"]);
        assert_eq!(
            dists.line_with_uri(&dists.uri),
            "deb [arch=amd64 signed-by=/k.gpg] https://d.mx/mxos/ bookworm main contrib"
        );
    }
}
