//! Static deltas end to end: publish generates them and lists them in the summary, a device
//! upgrading over HTTP fetches the delta (seen in nginx's access log) instead of loose
//! objects, and `mxos-compose prune` drops old commits with their deltas without breaking
//! the ref, the remaining deltas, fleet-pinned commits or the signed summary.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const REF: &str = "mxos/10/x86_64/demo";

/// Access log lines written after the first `skip` bytes.
/// Part 0 of the one published delta between two commits (libostree names such a delta's
/// directory `FROM-TO`; a from-scratch delta's has no dash).
fn delta_part(public: &Path) -> std::path::PathBuf {
    let mut found = Vec::new();
    for prefix in fs::read_dir(public.join("deltas")).unwrap() {
        for d in fs::read_dir(prefix.unwrap().path()).unwrap() {
            let d = d.unwrap().path();
            if d.file_name().unwrap().to_string_lossy().contains('-') {
                found.push(d.join("0"));
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

fn requests_since(log: &str, skip: usize) -> Vec<String> {
    log[skip..].lines().map(str::to_owned).collect()
}

fn fetched(lines: &[String], what: &str) -> bool {
    lines
        .iter()
        .any(|l| l.contains(what) && l.contains("\" 200 "))
}

#[test]
fn publish_generates_deltas_device_pulls_them_prune_keeps_refs_working() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let gen2 = mxos_tests::shared_demo_repo(2).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (build, public, sysroot) = (t.join("build"), t.join("public"), t.join("sysroot"));
    let key = s(&t.join("mxos.secret"));
    compose(&["keygen", &s(&t.join("mxos"))]);
    let compose_tree = |dir: &str, rpms: &Path, extra: &str| {
        let tree = demo_treefile(&t.join(dir), rpms, extra);
        committed(&compose_signed(&tree, &build, Path::new(&key)))
    };
    fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let url = nginx.url();
    let publish = |extra: &[&str]| publish(&build, &public, Path::new(&key), &url, extra);
    let summary = || ostree(&["--repo", &s(&public), "summary", "--view"]);

    // v1: nothing to make a delta from yet.
    let c1 = compose_tree("v1", &gen1, "");
    let out = publish(&[]);
    assert!(!out.contains("static delta"), "{out}");
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

    // v2 (one package changed): the default publish makes the delta v1 → v2 and lists it.
    let c2 = compose_tree("v2", &gen2, "");
    let out = publish(&[]);
    assert!(
        out.contains(&format!("static delta {c1} -> {c2}\n")),
        "{out}"
    );
    assert!(summary().contains(&format!("{c1}-{c2}")), "{}", summary());

    // The device upgrades through the delta: superblock and parts, no loose file objects.
    let before = nginx.access_log().len();
    update(&sysroot, &["upgrade"]);
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);
    let lines = requests_since(&nginx.access_log(), before);
    assert!(
        fetched(&lines, "/superblock HTTP"),
        "the upgrade did not fetch a delta superblock:\n{}",
        lines.join("\n")
    );
    assert!(
        !lines.iter().any(|l| l.contains(".filez ")),
        "file objects were fetched one by one despite the delta:\n{}",
        lines.join("\n")
    );

    // v3 with deltas from the last two published commits and from scratch.
    let c3 = compose_tree(
        "v3",
        &gen2,
        "  - echo v3 > /usr/share/mxos-hello/v3-marker\n",
    );
    let out = publish(&["--deltas", "2", "--delta-from-scratch"]);
    for from in [&c2, &c1] {
        assert!(
            out.contains(&format!("static delta {from} -> {c3}\n")),
            "{out}"
        );
    }
    assert!(
        out.contains(&format!("static delta (scratch) -> {c3}\n")),
        "{out}"
    );
    let listed = summary();
    for name in [format!("{c1}-{c3}"), format!("{c2}-{c3}"), c3.clone()] {
        assert!(listed.contains(&name), "{name} not in summary:\n{listed}");
    }

    // Prune to two commits per ref: v1 goes, and with it every delta from or to it.
    let out = compose(&[
        "prune",
        "--public",
        &s(&public),
        "--keep",
        "2",
        "--sign-key",
        &key,
    ]);
    assert!(out.contains(&format!("deleted commit {c1}\n")), "{out}");
    assert!(
        out.contains(&format!("deleted static delta {c1}-{c2}\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!("deleted static delta {c1}-{c3}\n")),
        "{out}"
    );
    assert!(!out.contains(&format!("deleted commit {c2}")), "{out}");
    let listed = summary();
    assert!(
        !listed.contains(&c1),
        "pruned commit still listed:\n{listed}"
    );
    assert!(listed.contains(&format!("{c2}-{c3}")), "{listed}");
    ostree(&["--repo", &s(&public), "fsck"]);
    assert_eq!(
        ostree(&["--repo", &s(&public), "rev-parse", REF]).trim(),
        c3
    );

    // A delta part altered on the server: the device refuses it and stays on v2.
    let part = delta_part(&public);
    let original = fs::read(&part).unwrap();
    let mut altered = original.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0xff;
    fs::write(&part, &altered).unwrap();
    let err = update_fails(&sysroot, &["upgrade"]);
    assert!(
        err.contains(&format!(
            "caused by: pulling {REF} from mxos\n  caused by: Data is corrupt"
        )),
        "{err}"
    );
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);
    fs::write(&part, &original).unwrap();

    // The pruned repo still serves: the device (on v2) upgrades through the v2 → v3 delta,
    // checking the re-signed summary and the commit's signature as always.
    let before = nginx.access_log().len();
    update(&sysroot, &["upgrade"]);
    assert_eq!(deployments(&sysroot)[0], c3);
    let lines = requests_since(&nginx.access_log(), before);
    assert!(fetched(&lines, "/superblock HTTP"), "{}", lines.join("\n"));

    // A fleet channel that sends devices to v2 keeps v2 through a prune to one commit.
    compose(&[
        "fleet",
        "promote",
        "estable",
        "--to",
        &c2,
        "--ref",
        REF,
        "--public",
        &s(&public),
        "--sign-key",
        &key,
    ]);
    let out = compose(&[
        "prune",
        "--public",
        &s(&public),
        "--keep",
        "1",
        "--sign-key",
        &key,
    ]);
    assert!(!out.contains("deleted commit"), "{out}");
    assert!(summary().contains(&format!("{c2}-{c3}")), "{}", summary());
    ostree(&["--repo", &s(&public), "fsck"]);

    // A fresh stock ostree client gets v3 from the pruned repo (from the scratch delta).
    let client = t.join("client");
    ostree(&["--repo", &s(&client), "init", "--mode=bare-user"]);
    ostree(&[
        "--repo",
        &s(&client),
        "remote",
        "add",
        "--no-gpg-verify",
        "mxos",
        &url,
    ]);
    ostree(&["--repo", &s(&client), "pull", "mxos", REF]);
    ostree(&["--repo", &s(&client), "fsck"]);
    assert_eq!(
        ostree(&["--repo", &s(&client), "rev-parse", &format!("mxos:{REF}")]).trim(),
        c3
    );
}
