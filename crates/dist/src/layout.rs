//! What each package holds and where it comes from: the one table packaging reads.

/// The packages, in build order.
pub const PACKAGES: &[Package] = &[Package::Update, Package::Compose];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// The device side: the agent, its units, defaults, pages, completions.
    Update,
    /// The maintainer side.
    Compose,
}

impl Package {
    pub fn name(self) -> &'static str {
        match self {
            Package::Update => "mxos-update",
            Package::Compose => "mxos-compose",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A binary of the build, stripped.
    Binary(&'static str),
    /// A file of the workspace, as it is.
    File(String),
    /// A man page of the workspace, gzipped (`dest` ends in `.gz`).
    ManPage(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub source: Source,
    /// Absolute path on the installed system.
    pub dest: String,
    pub mode: u32,
}

fn item(source: Source, dest: impl Into<String>, mode: u32) -> Item {
    Item {
        source,
        dest: dest.into(),
        mode,
    }
}

/// Every file of `package`; man pages are listed from `man_pages`, the `dist/man` files
/// of the tool (one per subcommand, `dist/man/es/man1` for the Spanish ones).
pub fn layout_with(package: Package, man_pages: &[String]) -> Vec<Item> {
    let tool = package.name();
    let file = |rel: &str| Source::File(rel.to_owned());
    let mut items = vec![item(
        Source::Binary(tool),
        format!("/usr/bin/{tool}"),
        0o755,
    )];
    for page in man_pages {
        // dist/man/man1/X.1 → /usr/share/man/man1/X.1.gz, dist/man/es/man1/X.1 → …/man/es/man1/
        let rel = page.strip_prefix("dist/man/").unwrap_or(page);
        items.push(item(
            Source::ManPage(page.clone()),
            format!("/usr/share/man/{rel}.gz"),
            0o644,
        ));
    }
    items.extend([
        item(
            file(&format!("dist/completions/bash/{tool}")),
            format!("/usr/share/bash-completion/completions/{tool}"),
            0o644,
        ),
        item(
            file(&format!("dist/completions/zsh/_{tool}")),
            format!("/usr/share/zsh/site-functions/_{tool}"),
            0o644,
        ),
        item(
            file(&format!("dist/completions/fish/{tool}.fish")),
            format!("/usr/share/fish/vendor_completions.d/{tool}.fish"),
            0o644,
        ),
    ]);
    match package {
        Package::Update => items.extend([
            item(
                file("systemd-units/mxos-update.service"),
                "/usr/lib/systemd/system/mxos-update.service",
                0o644,
            ),
            item(
                file("systemd-units/mxos-update.timer"),
                "/usr/lib/systemd/system/mxos-update.timer",
                0o644,
            ),
            item(
                file("systemd-units/mxos-health.service"),
                "/usr/lib/systemd/system/mxos-health.service",
                0o644,
            ),
            item(
                file("dist/80-mxos-update.preset"),
                "/usr/lib/systemd/system-preset/80-mxos-update.preset",
                0o644,
            ),
            item(
                file("dist/00-mxos-defaults.toml"),
                "/usr/lib/mxos/update.d/00-mxos-defaults.toml",
                0o644,
            ),
            item(
                file("docs/device-guide.md"),
                "/usr/share/doc/mxos/device-guide.md",
                0o644,
            ),
        ]),
        Package::Compose => items.push(item(
            file("docs/maintainer-guide.md"),
            "/usr/share/doc/mxos/maintainer-guide.md",
            0o644,
        )),
    }
    items
}

/// [`layout_with`] the man pages found under `workspace/dist/man/man1` and
/// `workspace/dist/man/es/man1`.
pub fn layout(package: Package, workspace: &std::path::Path) -> Vec<Item> {
    let tool = package.name();
    let mut pages = Vec::new();
    for dir in ["dist/man/man1", "dist/man/es/man1"] {
        let Ok(entries) = std::fs::read_dir(workspace.join(dir)) else {
            continue;
        };
        pages.extend(
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n == &format!("{tool}.1") || n.starts_with(&format!("{tool}-")))
                .map(|n| format!("{dir}/{n}")),
        );
    }
    pages.sort();
    layout_with(package, &pages)
}
