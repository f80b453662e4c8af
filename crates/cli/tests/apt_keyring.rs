//! apt trees check their mirror's Release signature with the keyring the treefile names:
//! a tiny signed mirror on loopback composes with its own keyring and is refused with
//! another key's, leaving the build repo as it was.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use mxos_tests::debs::{build_mirror, Deb};
use mxos_tests::{Nginx, Signer};

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn treefile(dir: &Path, mirror: &str, keyring: &Signer) -> String {
    fs::create_dir_all(dir).unwrap();
    keyring.write_keyring(&dir.join("espejo.gpg")).unwrap();
    let tf = dir.join("apt.yaml");
    fs::write(
        &tf,
        format!(
            "ref: mxos/test/apt\nbackend: apt\nsuite: bookworm\nmirror: {mirror}\nkeyring: espejo.gpg\n\
             apt-variant: custom\nbootable: false\npackages: [mxos-saludo]\n"
        ),
    )
    .unwrap();
    s(&tf)
}

#[test]
fn a_mirror_composes_with_its_keyring_and_is_refused_with_another() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let signer = Signer::generate("MxOS test mirror <mirror@mxos.invalid>").unwrap();
    build_mirror(
        &t.join("mirror"),
        "bookworm",
        &[Deb {
            name: "mxos-saludo",
            version: "1.0",
            files: &[(
                "/usr/share/mxos-saludo/saludo.txt",
                "Hola desde el espejo\n",
            )],
        }],
        &signer,
    )
    .unwrap();
    let nginx = Nginx::serve(&t.join("mirror")).unwrap();
    let mirror = nginx.url();
    let repo = s(&t.join("repo"));

    let tf = treefile(&t.join("ok"), &mirror, &signer);
    let out = compose(&[
        "tree",
        &tf,
        "--repo",
        &repo,
        "--overlays",
        &s(&t.join("none")),
    ]);
    let commit = committed(&out);
    assert_eq!(
        ostree(&[
            "--repo",
            &repo,
            "cat",
            &commit,
            "/usr/share/mxos-saludo/saludo.txt"
        ]),
        "Hola desde el espejo\n"
    );
    let refs = ostree(&["--repo", &repo, "refs"]);
    let log = ostree(&["--repo", &repo, "log", "mxos/test/apt"]);

    let other = Signer::generate("Someone else <other@mxos.invalid>").unwrap();
    let tf = treefile(&t.join("other"), &mirror, &other);
    let err = compose_fails(&[
        "tree",
        &tf,
        "--repo",
        &repo,
        "--overlays",
        &s(&t.join("none")),
        "--force-nocache",
    ]);
    let err = &err[err.find("error: ").unwrap_or(0)..];
    assert_eq!(
        err,
        format!(
            "error: the Debian mirror {mirror} (bookworm) is refused: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY {}; its Release files were checked with the keyring {} (`keyring` in the treefile)\n",
            &signer.fingerprint[24..],
            t.join("other/espejo.gpg").display()
        )
    );
    assert_eq!(ostree(&["--repo", &repo, "refs"]), refs);
    assert_eq!(ostree(&["--repo", &repo, "log", "mxos/test/apt"]), log);

    // Without `keyring`, Debian's own keyring, not whatever the build host trusts.
    let tf = treefile(&t.join("default"), &mirror, &signer);
    fs::write(
        &tf,
        fs::read_to_string(&tf)
            .unwrap()
            .replace("keyring: espejo.gpg\n", ""),
    )
    .unwrap();
    let err = compose_fails(&[
        "tree",
        &tf,
        "--repo",
        &repo,
        "--overlays",
        &s(&t.join("none")),
        "--force-nocache",
    ]);
    let err = &err[err.find("error: ").unwrap_or(0)..];
    assert_eq!(
        err,
        format!(
            "error: the Debian mirror {mirror} (bookworm) is refused: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY {}; its Release files were checked with the keyring /usr/share/keyrings/debian-archive-keyring.gpg (Debian's own; name the mirror's with `keyring`)\n",
            &signer.fingerprint[24..]
        )
    );
    assert_eq!(ostree(&["--repo", &repo, "refs"]), refs);
}
