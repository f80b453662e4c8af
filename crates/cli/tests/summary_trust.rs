//! The device checks the remote's summary itself before believing it: `summary.sig` by a
//! trusted ed25519 key, not older than the last summary it accepted, not past
//! `ostree.summary.expires`. Each refusal is checked on `upgrade`, `check`, `download` and
//! `run`, and
//! leaves the machine as it was (deployments, followed ref, agent state).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

const REF: &str = "mxos/10/x86_64/demo";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

struct Server {
    build: PathBuf,
    public: PathBuf,
    key: PathBuf,
    url: String,
}

impl Server {
    fn commit(&self, version: &str, date: &str) -> String {
        let c = tiny_os_commit(&self.build, REF, version, date);
        compose(&[
            "sign",
            "--repo",
            &s(&self.build),
            REF,
            "--key",
            &s(&self.key),
        ]);
        c
    }

    fn publish(&self, extra: &[&str]) {
        // Summaries are dated in whole seconds; one per second keeps them ordered.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        publish(&self.build, &self.public, &self.key, &self.url, extra);
    }

    fn summary(&self) -> (Vec<u8>, Vec<u8>) {
        (
            fs::read(self.public.join("summary")).unwrap(),
            fs::read(self.public.join("summary.sig")).unwrap(),
        )
    }

    /// Puts a summary and signature file in place, newer by mtime so HTTP caches see it.
    fn serve_summary(&self, (summary, sig): &(Vec<u8>, Vec<u8>)) {
        for (name, bytes) in [("summary", summary), ("summary.sig", sig)] {
            let path = self.public.join(name);
            let before = fs::metadata(&path).and_then(|m| m.modified()).ok();
            fs::write(&path, bytes).unwrap();
            mxos_repo::newer_than(&path, before).unwrap();
        }
    }
}

/// What must not change when a summary is refused.
/// What a refusal must leave as it was: deployments, the followed ref, and the agent state
/// (its replay protection included); only the record of why the source was passed over
/// (`sources`) may change.
fn machine(sysroot: &Path) -> (Vec<String>, String, serde_json::Value) {
    let followed = ostree(&[
        "--repo",
        &s(&sysroot.join("ostree/repo")),
        "rev-parse",
        &format!("mxos:{REF}"),
    ]);
    let mut state: serde_json::Value =
        fs::read(sysroot.join("ostree/deploy/mxos/var/lib/mxos-update/state.json"))
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or_default();
    if let Some(st) = state.as_object_mut() {
        st.remove("sources");
    }
    (deployments(sysroot), followed.trim().to_owned(), state)
}

fn made(summary: &[u8]) -> String {
    let info = mxos_repo::parse_summary(summary).unwrap();
    mxos_fleet::utc(info.last_modified.unwrap() as i64)
}

/// `upgrade`, `check`, `download` and `run` all refuse with `expected` (the error lines, English) and
/// change nothing.
fn refused_everywhere(sysroot: &Path, expected: &str) {
    let before = machine(sysroot);
    let (code, out, err) = update_run(sysroot, &["upgrade"], &[]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "", expected),
        "upgrade"
    );
    assert_eq!(machine(sysroot), before, "upgrade changed the machine");
    let (code, out, err) = update_run(sysroot, &["check"], &[]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "", expected),
        "check"
    );
    assert_eq!(machine(sysroot), before, "check changed the machine");
    let (code, out, err) = update_run(sysroot, &["run"], &[]);
    // `run` reports the failed check as its reason, on one line, and goes on idle.
    let first = expected
        .lines()
        .filter(|l| !l.starts_with("Update refused"))
        .map(|l| {
            l.trim_start_matches("error: ")
                .trim_start_matches("  caused by: ")
        })
        .collect::<Vec<_>>()
        .join(": ");
    assert_eq!(code, 0, "run: {out}\n{err}");
    assert!(out.contains(&first), "run said:\n{out}\nexpected:\n{first}");
    assert_eq!(machine(sysroot).0, before.0, "run changed the deployments");
    assert_eq!(machine(sysroot).1, before.1, "run moved the followed ref");
}

#[test]
fn replayed_foreign_wrongly_signed_and_expired_summaries_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    compose(&["keygen", &s(&t.join("mxos"))]);
    let public = t.join("public");
    fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let server = Server {
        build: t.join("build"),
        public: public.clone(),
        key: t.join("mxos.secret"),
        url: nginx.url(),
    };
    let c1 = server.commit("10.1", "2026-12-01 00:00:00 +0000");
    server.publish(&[]);
    let sysroot = t.join("sysroot");
    update(
        &sysroot,
        &[
            "init",
            "--remote-conf",
            &s(&public.join("mxos.conf")),
            "--ref",
            REF,
        ],
    );
    update(&sysroot, &["upgrade"]);
    assert_eq!(deployments(&sysroot), vec![c1.clone()]);
    let old = server.summary();

    // A newer summary is accepted and remembered.
    let c2 = server.commit("10.2", "2026-12-02 00:00:00 +0000");
    server.publish(&[]);
    let (code, out, _) = update_run(&sysroot, &["check"], &[]);
    assert_eq!(
        (code, out),
        (0, "An update is available: 10.2.\n".to_owned())
    );
    let current = server.summary();

    // 1. The older summary with its own (valid) signature, replayed.
    server.serve_summary(&old);
    let replay = format!(
        "error: the summary of remote `mxos` was made {}, before the one this machine last accepted ({}); refusing an old (replayed) summary\n",
        made(&old.0),
        made(&current.0)
    );
    refused_everywhere(&sysroot, &replay);
    let (code, _, err) = update_run(&sysroot, &["upgrade"], &[("LANG", "es_MX.UTF-8")]);
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "error: el resumen (summary) del remoto `mxos` se hizo el {}, antes que el último que este equipo aceptó ({}); se rechaza un resumen viejo (repetido)\n",
                made(&old.0),
                made(&current.0)
            )
        )
    );

    // 2. The summary of another repo, signed by that repo's own key.
    compose(&["keygen", &s(&t.join("other"))]);
    let other = Server {
        build: t.join("other-build"),
        public: t.join("other-public"),
        key: t.join("other.secret"),
        url: "http://127.0.0.1:9/".into(),
    };
    other.commit("66.6", "2026-12-03 00:00:00 +0000");
    other.publish(&[]);
    server.serve_summary(&other.summary());
    let untrusted = "Update refused: it could not be verified as coming from MxOS. The machine keeps the version it had.\n\
         error: the summary of remote `mxos` is not signed by a key this machine trusts; not using it\n  \
         caused by: none of its 1 ed25519 signature(s) was made by a trusted key (wrong key, or the content was altered after signing)\n";
    refused_everywhere(&sysroot, untrusted);

    // 3. This repo's current summary, but summary.sig made by another key.
    server.serve_summary(&current);
    mxos_sign::sign_summary(
        &public,
        &mxos_sign::SecretKey::read(&t.join("other.secret")).unwrap(),
    )
    .unwrap();
    refused_everywhere(&sysroot, untrusted);

    // 4. A summary published already expired (`--summary-valid-days 0`).
    server.publish(&["--summary-valid-days", "0"]);
    let info = mxos_repo::parse_summary(&server.summary().0).unwrap();
    // 0 days: it expires at the moment publish started, at most a few seconds before
    // libostree dated it.
    let (e, m) = (info.expires.unwrap(), info.last_modified.unwrap());
    assert!(e <= m && m - e < 10, "expires {e}, made {m}");
    let expires = mxos_fleet::utc(info.expires.unwrap() as i64);
    let before = machine(&sysroot);
    let (code, _, err) = update_run(&sysroot, &["upgrade"], &[]);
    assert_eq!(code, 1);
    let prefix = format!("error: the summary of remote `mxos` expired {expires} (now ");
    let tail = "); the server has not published a fresh one, so this machine does not use it\n";
    assert!(err.starts_with(&prefix) && err.ends_with(tail), "{err}");
    let now = &err[prefix.len()..err.len() - tail.len()];
    assert!(now >= expires.as_str(), "now {now} is not past {expires}");
    assert_eq!(machine(&sysroot), before);
    let (code, _, err) = update_run(&sysroot, &["check"], &[]);
    assert!(
        code == 1 && err.starts_with(&prefix) && err.ends_with(tail),
        "{err}"
    );
    let (code, out, _) = update_run(&sysroot, &["run"], &[]);
    assert!(code == 0 && out.contains(&prefix[7..]), "{out}");
    assert_eq!(machine(&sysroot).0, before.0);

    // And a fresh, properly signed summary is taken again: exactly the commit it names.
    server.publish(&[]);
    let msg = update(&sysroot, &["upgrade"]);
    assert!(msg.starts_with("Update 10.2 ("), "{msg}");
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);
    drop(nginx);
}
