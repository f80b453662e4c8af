//! What is deployed, for people (`mxos-update status`) and for scripts (`--json`).

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::i18n::{short, Lang};
use crate::t;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub index: usize,
    /// What the next boot uses.
    pub default: bool,
    /// What `mxos-update rollback` would switch to.
    pub rollback: bool,
    pub booted: bool,
    pub staged: bool,
    pub checksum: String,
    pub version: Option<String>,
    pub refspec: Option<String>,
    pub timestamp: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq, Eq)]
pub struct Status {
    pub following: Option<String>,
    pub deployments: Vec<DeploymentStatus>,
    /// Where the update agent stands (downloaded, staged, waiting for a window, ...).
    pub agent: crate::machine::State,
    /// What each update source gave this machine (bytes, when, why it was passed over).
    pub sources: std::collections::BTreeMap<String, crate::sources::SourceRecord>,
    /// The source the last update was downloaded from.
    pub last_source: Option<String>,
}

pub fn status(sysroot_path: &Path) -> Result<Status> {
    let sysroot = crate::update::open_sysroot(sysroot_path)?;
    let repo = sysroot.repo();
    let mut deployments = Vec::new();
    for d in sysroot.deployments() {
        let info = repo.commit_info(&d.checksum)?;
        deployments.push(DeploymentStatus {
            index: d.index,
            default: d.index == 0,
            rollback: d.index == 1,
            booted: d.booted,
            staged: d.staged,
            version: info.version().map(str::to_owned),
            timestamp: info.timestamp,
            refspec: d.refspec,
            checksum: d.checksum,
        });
    }
    let st = crate::state::load(&crate::state::dir(sysroot_path, crate::STATEROOT))?;
    Ok(Status {
        following: crate::update::following(&sysroot)?,
        deployments,
        agent: st.machine,
        sources: st.sources,
        last_source: st.last_source,
    })
}

/// The human form, one block per deployment, default first.
pub fn render(status: &Status, lang: Lang) -> String {
    if status.deployments.is_empty() {
        let mut s = t!("status-no-deployments").render(lang);
        if let Some(f) = &status.following {
            s.push_str(&format!("\n  → {f}"));
        }
        return s + "\n";
    }
    let mut out = String::new();
    if status.agent != crate::machine::State::Idle {
        let m = crate::machine::Machine::new(
            status.agent.clone(),
            crate::config::RebootPolicy::Window,
            true,
        );
        out.push_str(&m.describe(lang));
        out.push('\n');
    }
    for d in &status.deployments {
        let mut tags = Vec::new();
        if d.default {
            tags.push(t!("status-default").render(lang));
        }
        if d.rollback {
            tags.push(t!("status-rollback").render(lang));
        }
        if d.booted {
            tags.push(t!("status-booted").render(lang));
        }
        let marker = if d.default { "●" } else { " " };
        out.push_str(&format!(
            "{marker} {} {} [{}]\n    {} {}\n    ref: {}\n",
            d.version.as_deref().unwrap_or("-"),
            short(&d.checksum),
            tags.join(", "),
            t!("status-commit").render(lang),
            d.checksum,
            d.refspec.as_deref().unwrap_or("-"),
        ));
    }
    if !status.sources.is_empty() {
        out.push_str(&t!("status-sources").render(lang));
        out.push('\n');
        for (label, r) in &status.sources {
            let marker = if status.last_source.as_deref() == Some(label) {
                "●"
            } else {
                " "
            };
            let used = r.last_used.map_or("-".to_owned(), mxos_fleet::utc);
            out.push_str(&format!(
                "{marker} {label}: {}\n",
                t!("status-source-line", bytes = r.bytes, used = used).render(lang)
            ));
            if let Some(e) = &r.last_error {
                out.push_str(&format!(
                    "    {}\n",
                    t!("status-source-error", error = e).render(lang)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_default_and_rollback_in_both_languages() {
        let st = Status {
            following: Some("mxos:mxos/10/x86_64/demo".into()),
            agent: crate::machine::State::Idle,
            sources: Default::default(),
            last_source: None,
            deployments: vec![
                DeploymentStatus {
                    index: 0,
                    default: true,
                    rollback: false,
                    booted: false,
                    staged: false,
                    checksum: "a".repeat(64),
                    version: Some("10.20261129.1".into()),
                    refspec: Some("mxos:mxos/10/x86_64/demo".into()),
                    timestamp: 2,
                },
                DeploymentStatus {
                    index: 1,
                    default: false,
                    rollback: true,
                    booted: true,
                    staged: false,
                    checksum: "b".repeat(64),
                    version: Some("10.20261129.0".into()),
                    refspec: Some("mxos:mxos/10/x86_64/demo".into()),
                    timestamp: 1,
                },
            ],
        };
        let es = render(&st, Lang::Es);
        assert!(
            es.starts_with("● 10.20261129.1 aaaaaaaaaaaa [predeterminada]\n"),
            "{es}"
        );
        assert!(
            es.contains("  10.20261129.0 bbbbbbbbbbbb [anterior (para regresar), en uso]\n"),
            "{es}"
        );
        let en = render(&st, Lang::En);
        assert!(en.contains("[rollback, booted]"), "{en}");
        let staged = Status {
            agent: crate::machine::State::Staged {
                commit: "c".repeat(64),
                version: "10.3".into(),
            },
            ..st.clone()
        };
        let first = render(&staged, Lang::En).lines().next().unwrap().to_owned();
        assert!(
            first.contains("10.3"),
            "the agent's state comes first: {first}"
        );
        let mut fed = st.clone();
        crate::sources::record(
            &mut fed.sources,
            "usb:/media/ESCUELA/mxos",
            4_009_194,
            None,
            1_796_000_000,
        );
        crate::sources::record(
            &mut fed.sources,
            "main",
            0,
            Some("connection refused".into()),
            1_796_000_000,
        );
        fed.last_source = Some("usb:/media/ESCUELA/mxos".into());
        let es = render(&fed, Lang::Es);
        assert!(
            es.ends_with(
                "Fuentes de actualización:\n  main: 0 bytes, usada por última vez: -\n    \
                 se pasó por alto: connection refused\n● usb:/media/ESCUELA/mxos: 4009194 bytes, \
                 usada por última vez: 2026-11-30T00:53:20Z\n"
            ),
            "{es}"
        );
        assert!(render(&fed, Lang::En).contains(
            "● usb:/media/ESCUELA/mxos: 4009194 bytes, last used: 2026-11-30T00:53:20Z\n"
        ));
        assert_eq!(
            render(
                &Status {
                    following: None,
                    deployments: vec![],
                    agent: crate::machine::State::Idle,
                    sources: Default::default(),
                    last_source: None,
                },
                Lang::Es
            ),
            "No hay ninguna versión instalada todavía.\n"
        );
    }
}
