//! GPG beside ed25519, through libostree: `mxos-compose sign --gpg-key-id` and
//! `publish --gpg-sign` sign commits and the summary; the stock `ostree` CLI with
//! `gpg-verify=true` accepts what we published over HTTP and refuses the same repo signed
//! by another GPG key; the ed25519 signatures on the same repo still verify.

mod common;

use std::fs;
use std::path::Path;

use common::gpg::GpgHome;
use common::*;

const REF: &str = "mxos/10/x86_64/demo";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// A stock ostree client following `url` with GPG checks on commits and summary.
fn client(dir: &Path, url: &str, key: &Path) -> String {
    let c = s(dir);
    ostree(&["--repo", &c, "init", "--mode=bare-user"]);
    ostree(&[
        "--repo",
        &c,
        "remote",
        "add",
        "--set=gpg-verify=true",
        "--set=gpg-verify-summary=true",
        &format!("--gpg-import={}", key.display()),
        "mxos",
        url,
    ]);
    c
}

fn ostree_fails(args: &[&str]) -> String {
    let out = std::process::Command::new("ostree")
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "ostree {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn gpg_and_ed25519_side_by_side_and_the_stock_client_checks_gpg() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public) = (t.join("build"), t.join("public"));
    let mxos_gpg = GpgHome::new("mxos");
    let stranger_gpg = GpgHome::new("stranger");
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = t.join("mxos.secret");
    let commit = tiny_os_commit(&build, REF, "10.1", "2026-12-01 00:00:00 +0000");

    // `sign` with both: the GPG signature joins the ed25519 one in the detached metadata.
    let out = compose(&[
        "sign",
        "--repo",
        &s(&build),
        REF,
        "--key",
        &s(&key),
        "--gpg-key-id",
        &mxos_gpg.fingerprint,
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ]);
    let ed_pub = fs::read_to_string(t.join("mxos.pub"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        out,
        format!(
            "signed {commit} with GPG key {}\nsigned {commit} with {ed_pub}\n",
            mxos_gpg.fingerprint
        )
    );
    // Signing again adds nothing and does not fail.
    compose(&[
        "sign",
        "--repo",
        &s(&build),
        REF,
        "--gpg-key-id",
        &mxos_gpg.fingerprint,
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ]);
    let shown = ostree(&["--repo", &s(&build), "show", &commit]);
    assert!(shown.contains("\nFound 1 signature:\n"), "{shown}");
    assert!(
        shown.contains(&format!(
            "using EdDSA key ID {}\n",
            &mxos_gpg.fingerprint[24..]
        )),
        "{shown}"
    );

    // Bad key id or homedir: clear errors naming them, nothing written.
    let meta_before = fs::read(build.join(format!(
        "objects/{}/{}.commitmeta",
        &commit[..2],
        &commit[2..]
    )))
    .unwrap();
    let err = compose_fails(&[
        "sign",
        "--repo",
        &s(&build),
        REF,
        "--gpg-key-id",
        "NO-SUCH-KEY",
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ]);
    let home = mxos_gpg.path().display();
    assert!(
        err.ends_with(&format!(
            "\nerror: GPG key NO-SUCH-KEY is not in {home}; list the keys there with `gpg --homedir {home} --list-secret-keys`\n"
        )),
        "{err}"
    );
    let missing = t.join("no-such-gnupg");
    let err = compose_fails(&[
        "sign",
        "--repo",
        &s(&build),
        REF,
        "--gpg-key-id",
        &mxos_gpg.fingerprint,
        "--gpg-homedir",
        &s(&missing),
    ]);
    assert_eq!(
        err,
        format!(
            "error: GPG home directory {} does not exist; point --gpg-homedir at the GnuPG directory holding the secret key {}\n",
            missing.display(),
            mxos_gpg.fingerprint
        )
    );
    assert!(!missing.exists(), "a missing homedir is not created");
    assert_eq!(
        fs::read(build.join(format!(
            "objects/{}/{}.commitmeta",
            &commit[..2],
            &commit[2..]
        )))
        .unwrap(),
        meta_before
    );

    // Publish with GPG over HTTP.
    fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let url = nginx.url();
    let gpg_args = [
        "--gpg-sign",
        mxos_gpg.fingerprint.as_str(),
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ];
    let out = publish(&build, &public, &key, &url, &gpg_args);
    assert!(
        out.ends_with(&format!(
            "GPG key:       {}\n",
            public.join("mxos.gpg").display()
        )),
        "{out}"
    );
    let conf = fs::read_to_string(public.join("mxos.conf")).unwrap();
    assert_eq!(
        conf,
        format!(
            "# MxOS remote: install as /etc/ostree/remotes.d/mxos.conf\n[remote \"mxos\"]\nurl={url}\ncollection-id=mx.mxos.Os\ngpg-verify=true\ngpg-verify-summary=true\nmxos-gpg-key=mxos.gpg\nsign-verify=ed25519\nsign-verify-summary=true\nverification-ed25519-key={ed_pub}\n"
        )
    );
    // summary.sig carries both kinds, each under libostree's own key.
    let summary = fs::read(public.join("summary")).unwrap();
    let sig = fs::read(public.join("summary.sig")).unwrap();
    assert_eq!(
        mxos_repo::decode_signature_file(&sig, "ostree.gpgsigs").len(),
        1
    );
    assert_eq!(
        mxos_repo::decode_signature_file(&sig, "ostree.sign.ed25519").len(),
        1
    );
    let trusted = mxos_sign::PublicKey::read_all(&public.join("mxos.ed25519.pub")).unwrap();
    mxos_sign::verify_summary(&summary, &sig, &trusted).unwrap();
    // ed25519 on the commit of the published repo (this libostree has no ed25519 engine,
    // so our own verification stands in for `ostree --sign-verify`).
    assert_eq!(
        compose(&[
            "verify",
            "--repo",
            &s(&public),
            REF,
            "--pubkey",
            &s(&public.join("mxos.ed25519.pub")),
        ]),
        format!("{commit} : good ed25519 signature by {ed_pub}\n")
    );

    // The stock client accepts it with the published key...
    let good = client(&t.join("good"), &url, &public.join("mxos.gpg"));
    ostree(&["--repo", &good, "pull", "mxos", REF]);
    assert_eq!(
        ostree(&["--repo", &good, "rev-parse", &format!("mxos:{REF}")]).trim(),
        commit
    );
    // ... and one that trusts another GPG key refuses the very same repo.
    let stranger_key = stranger_gpg.export(&t.join("stranger.gpg"));
    let bad = client(&t.join("bad"), &url, &stranger_key);
    let err = ostree_fails(&["pull", &format!("--repo={bad}"), "mxos", REF]);
    // libostree's own words: the summary's signature is by a key this client lacks (the
    // line between gives gpgme's time of signing, which varies).
    let id = &mxos_gpg.fingerprint[24..];
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("error: Signature made ")
            && lines[0].ends_with(&format!(" using EdDSA key ID {id}")),
        "{err}"
    );
    assert_eq!(lines[1], "Can't check signature: public key not found");
    assert!(
        ostree(&["--repo", &bad, "refs"]).trim().is_empty(),
        "nothing was pulled"
    );

    // A publish with a bad GPG key id or homedir names it and leaves the tree as it was.
    let before = (
        fs::read(public.join("summary")).unwrap(),
        fs::read(public.join("summary.sig")).unwrap(),
    );
    let err = compose_fails(&[
        "publish",
        "--repo",
        &s(&build),
        "--to",
        &s(&public),
        "--sign-key",
        &s(&key),
        "--gpg-sign",
        "NO-SUCH-KEY",
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ]);
    assert!(
        err.ends_with(&format!(
            "\nerror: GPG key NO-SUCH-KEY is not in {home}; list the keys there with `gpg --homedir {home} --list-secret-keys`\n"
        )),
        "{err}"
    );
    let err = compose_fails(&[
        "publish",
        "--repo",
        &s(&build),
        "--to",
        &s(&public),
        "--sign-key",
        &s(&key),
        "--gpg-sign",
        &mxos_gpg.fingerprint,
        "--gpg-homedir",
        &s(&missing),
    ]);
    assert_eq!(
        err,
        format!(
            "error: GPG home directory {} does not exist; point --gpg-homedir at the GnuPG directory holding the secret key {}\n",
            missing.display(),
            mxos_gpg.fingerprint
        )
    );
    assert_eq!(
        (
            fs::read(public.join("summary")).unwrap(),
            fs::read(public.join("summary.sig")).unwrap(),
        ),
        before
    );
    drop(nginx);
}

/// A remote config that requires GPG: `init` imports the published key into the remote's
/// keyring, libostree then checks GPG on every pull, and a head signed with ed25519 only is
/// refused while the machine stays as it was.
#[test]
fn a_device_told_to_require_gpg_requires_it() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, public, sysroot) = (t.join("build"), t.join("public"), t.join("sysroot"));
    let mxos_gpg = GpgHome::new("mxos");
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = t.join("mxos.secret");
    fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let url = nginx.url();
    let gpg_args = [
        "--gpg-sign",
        mxos_gpg.fingerprint.as_str(),
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ];
    let c1 = tiny_os_commit(&build, REF, "10.1", "2026-12-01 00:00:00 +0000");
    compose(&["sign", "--repo", &s(&build), REF, "--key", &s(&key)]);
    publish(&build, &public, &key, &url, &gpg_args);
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
    let repo = s(&sysroot.join("ostree/repo"));
    assert_eq!(
        ostree(&[
            "--repo",
            &repo,
            "config",
            "get",
            "remote \"mxos\".gpg-verify"
        ]),
        "true\n"
    );
    let keys = ostree(&["--repo", &repo, "remote", "gpg-list-keys", "mxos"]);
    assert!(keys.contains(&mxos_gpg.fingerprint), "{keys}");
    update(&sysroot, &["upgrade"]);
    assert_eq!(deployments(&sysroot), vec![c1.clone()]);

    // v2 signed with ed25519 only, published without GPG: this machine still requires it.
    let c2 = tiny_os_commit(&build, REF, "10.2", "2026-12-02 00:00:00 +0000");
    compose(&["sign", "--repo", &s(&build), REF, "--key", &s(&key)]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    publish(&build, &public, &key, &url, &[]);
    let err = update_fails(&sysroot, &["upgrade"]);
    assert!(
        err.starts_with("error: checking the remote for a new version\n  caused by: fetching the summary of remote `mxos`\n  caused by: GPG verification enabled, but no signatures found"),
        "{err}"
    );
    assert_eq!(deployments(&sysroot), vec![c1.clone()]);

    // Published with GPG again: taken.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    publish(&build, &public, &key, &url, &gpg_args);
    let msg = update(&sysroot, &["upgrade"]);
    assert!(msg.starts_with("Update 10.2 ("), "{msg}");
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1]);

    // Fleet manifests and prune re-sign the summary: with --gpg-sign both kinds stay, and the
    // manifest's commit carries GPG too, so a stock GPG-checking client pulls it.
    let public_arg = s(&public);
    let signing = [
        "--public",
        &public_arg,
        "--sign-key",
        &s(&key),
        "--gpg-sign",
        &mxos_gpg.fingerprint,
        "--gpg-homedir",
        &s(mxos_gpg.path()),
    ];
    let mut promote = vec!["fleet", "promote", "escuelas", "--to", REF, "--ref", REF];
    promote.extend_from_slice(&signing);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    compose(&promote);
    let mut prune = vec!["prune", "--keep", "1"];
    prune.extend_from_slice(&signing[2..]);
    prune.extend_from_slice(&["--public", &public_arg]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    compose(&prune);
    let sig = fs::read(public.join("summary.sig")).unwrap();
    assert_eq!(
        (
            mxos_repo::decode_signature_file(&sig, "ostree.gpgsigs").len(),
            mxos_repo::decode_signature_file(&sig, "ostree.sign.ed25519").len()
        ),
        (1, 1)
    );
    let stock = client(&t.join("stock"), &url, &public.join("mxos.gpg"));
    ostree(&["--repo", &stock, "pull", "mxos", REF, "mxos/fleet/escuelas"]);
    assert_eq!(
        ostree(&["--repo", &stock, "rev-parse", &format!("mxos:{REF}")]).trim(),
        c2
    );
    // The device still takes the re-signed summary.
    assert_eq!(
        update(&sysroot, &["upgrade"]),
        "The system is up to date (10.2).\n"
    );
    drop(nginx);
}
