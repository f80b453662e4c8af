//! Failures from below the agent, in the reader's language: the libostree steps
//! ([`mxos_repo::Step`]) from the catalogue, and the common network and disk causes that
//! libostree, GLib and curl only ever say in English, recognised by their wording. The
//! original wording stays beside the translation: it is what a technician searches for.

use mxos_repo::{Step, SysrootRefusal};

use crate::i18n::Text;
use crate::t;

pub fn step_text(step: &Step) -> Text {
    match step {
        Step::InitSysroot { path } => t!("step-init-sysroot", path = path),
        Step::LoadSysroot { path } => t!("step-load-sysroot", path = path),
        Step::CreateStateroot { stateroot } => t!("step-create-stateroot", stateroot = stateroot),
        Step::FetchSummary { remote } => t!("step-fetch-summary", remote = remote),
        Step::ImportGpgKeys { remote } => t!("step-import-gpg-keys", remote = remote),
        Step::Pull { refs, source } => t!("step-pull", refs = refs, source = source),
        Step::Stage { commit } => t!("step-stage", commit = commit),
        Step::Deploy { commit } => t!("step-deploy", commit = commit),
        Step::WriteBootOrder => t!("step-write-boot-order"),
        Step::CleanUp => t!("step-clean-up"),
    }
}

pub fn refusal_text(refusal: &SysrootRefusal) -> Text {
    match refusal {
        // The agent checks these two itself first; the same words if libostree's side says so.
        SysrootRefusal::NotASysroot { path } => t!("not-a-sysroot", path = path),
        SysrootRefusal::NothingToRollBackTo { deployments } => {
            t!("no-rollback-target", count = deployments)
        }
        SysrootRefusal::Locked { path } => t!("sysroot-locked", path = path),
    }
}

/// A cause the person at the machine can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemCause {
    /// The server's name does not resolve: no network, or no DNS.
    HostNotFound,
    /// Nothing answers at the server's address.
    ConnectionRefused,
    TimedOut,
    /// The server answers but lacks the file: a wrong URL or a half-copied mirror.
    NotOnServer,
    DiskFull,
    PermissionDenied,
    ReadOnly,
    /// libostree's own refusal of a commit whose bindings name another collection or ref
    /// than the remote's: a mirror or server mixing repos.
    WrongBinding,
}

/// The wordings of curl (as libostree quotes it, `[6] Couldn't resolve host name`), of
/// libostree's own HTTP errors and of strerror, each mapped to the cause it names.
const WORDINGS: [(&str, SystemCause); 13] = [
    ("couldn't resolve host", SystemCause::HostNotFound),
    ("could not resolve host", SystemCause::HostNotFound),
    ("couldn't connect to server", SystemCause::ConnectionRefused),
    ("connection refused", SystemCause::ConnectionRefused),
    ("timeout was reached", SystemCause::TimedOut),
    ("timed out", SystemCause::TimedOut),
    ("server returned http 404", SystemCause::NotOnServer),
    ("no space left on device", SystemCause::DiskFull),
    ("disk quota exceeded", SystemCause::DiskFull),
    ("permission denied", SystemCause::PermissionDenied),
    ("read-only file system", SystemCause::ReadOnly),
    ("in collection binding metadata", SystemCause::WrongBinding),
    ("in ref binding metadata", SystemCause::WrongBinding),
];

pub fn recognise(message: &str) -> Option<SystemCause> {
    let lower = message.to_lowercase();
    WORDINGS
        .iter()
        .find(|(w, _)| lower.contains(w))
        .map(|(_, c)| *c)
}

/// `message` with what it means for the reader, when it is a cause [`recognise`] knows.
pub fn explained(message: &str) -> Option<Text> {
    let explanation = match recognise(message)? {
        SystemCause::HostNotFound => t!("cause-host-not-found"),
        SystemCause::ConnectionRefused => t!("cause-connection-refused"),
        SystemCause::TimedOut => t!("cause-timed-out"),
        SystemCause::NotOnServer => t!("cause-not-on-server"),
        SystemCause::DiskFull => t!("cause-disk-full"),
        SystemCause::PermissionDenied => t!("cause-permission-denied"),
        SystemCause::ReadOnly => t!("cause-read-only"),
        SystemCause::WrongBinding => t!("cause-wrong-binding"),
    };
    Some(t!("cause-explained", original = message).nested("explanation", explanation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn libostree_and_curl_wordings_are_recognised() {
        for (message, cause) in [
            (
                "While fetching http://nohost.invalid/mxos/summary.sig: [6] Couldn't resolve host name",
                SystemCause::HostNotFound,
            ),
            (
                "While fetching http://127.0.0.1:1/mxos/summary.sig: [7] Couldn't connect to server",
                SystemCause::ConnectionRefused,
            ),
            (
                "While fetching http://10.0.2.2/mxos/objects/ab/cd.filez: [28] Timeout was reached",
                SystemCause::TimedOut,
            ),
            (
                "Server returned HTTP 404",
                SystemCause::NotOnServer,
            ),
            (
                "writing object ab12: No space left on device",
                SystemCause::DiskFull,
            ),
            ("opendir(ostree/repo): Permission denied", SystemCause::PermissionDenied),
            ("mkdirat: Read-only file system", SystemCause::ReadOnly),
            (
                "Commit has collection ID ‘org.otra.Os’ in collection binding metadata, while the remote it came from has collection ID ‘mx.mxos.Os’",
                SystemCause::WrongBinding,
            ),
        ] {
            assert_eq!(recognise(message), Some(cause), "{message}");
        }
        assert_eq!(recognise("Commit 1234 not found"), None);
    }

    #[test]
    fn a_cause_says_what_it_means_and_keeps_the_original_wording() {
        let message =
            "While fetching http://127.0.0.1:1/mxos/summary.sig: [7] Couldn't connect to server";
        let text = explained(message).unwrap();
        assert_eq!(
            text.render(Lang::Es),
            format!("nadie responde en la dirección del servidor: revise que el servidor de actualizaciones esté encendido y que la dirección sea correcta ({message})")
        );
        assert_eq!(
            text.render(Lang::En),
            format!("nothing answers at the server's address: check that the update server is on and that the address is right ({message})")
        );
        assert_eq!(
            step_text(&Step::FetchSummary {
                remote: "mxos".into()
            })
            .render(Lang::Es),
            "al descargar el índice firmado (summary) del remoto `mxos`"
        );
        // A step's English is the wording the library itself prints, so logs agree.
        assert_eq!(
            refusal_text(&SysrootRefusal::Locked { path: "/s".into() }).render(Lang::En),
            SysrootRefusal::Locked { path: "/s".into() }.to_string()
        );
        assert_eq!(
            refusal_text(&SysrootRefusal::Locked { path: "/".into() }).render(Lang::Es),
            "ya hay otra actualización en curso en / (el candado del sysroot está tomado); intente de nuevo cuando termine"
        );
        for step in [
            Step::InitSysroot { path: "/s".into() },
            Step::LoadSysroot { path: "/s".into() },
            Step::CreateStateroot {
                stateroot: "mxos".into(),
            },
            Step::FetchSummary {
                remote: "mxos".into(),
            },
            Step::ImportGpgKeys {
                remote: "mxos".into(),
            },
            Step::Pull {
                refs: "mxos/10/x86_64/demo".into(),
                source: "mxos".into(),
            },
            Step::Stage {
                commit: "ab".into(),
            },
            Step::Deploy {
                commit: "ab".into(),
            },
            Step::WriteBootOrder,
            Step::CleanUp,
        ] {
            assert_eq!(step_text(&step).render(Lang::En), step.to_string());
        }
    }
}
