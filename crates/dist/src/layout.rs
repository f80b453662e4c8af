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
/// of the tool (one per subcommand).
pub fn layout_with(package: Package, man_pages: &[String]) -> Vec<Item> {
    let tool = package.name();
    let file = |rel: &str| Source::File(rel.to_owned());
    let mut items = vec![item(
        Source::Binary(tool),
        format!("/usr/bin/{tool}"),
        0o755,
    )];
    for page in man_pages {
        let base = page.rsplit('/').next().unwrap_or(page);
        items.push(item(
            Source::ManPage(page.clone()),
            format!("/usr/share/man/man1/{base}.gz"),
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

/// [`layout_with`] the man pages found under `workspace/dist/man/man1`.
pub fn layout(package: Package, workspace: &std::path::Path) -> Vec<Item> {
    let dir = workspace.join("dist/man/man1");
    let tool = package.name();
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n == &format!("{tool}.1") || n.starts_with(&format!("{tool}-")))
                .map(|n| format!("dist/man/man1/{n}"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    layout_with(package, &pages)
}
