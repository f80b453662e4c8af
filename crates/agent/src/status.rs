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
    let agent = crate::state::load(&crate::state::dir(sysroot_path, crate::STATEROOT))?.machine;
    Ok(Status {
        following: crate::update::following(&sysroot)?,
        deployments,
        agent,
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
        assert_eq!(
            render(
                &Status {
                    following: None,
                    deployments: vec![],
                    agent: crate::machine::State::Idle,
                },
                Lang::Es
            ),
            "No hay ninguna versión instalada todavía.\n"
        );
    }
}
