//! The first end-to-end slice, for real: compose from RPMs with dnf, sign, publish, serve
//! with nginx, deploy into a test sysroot over HTTP, upgrade, roll back, refuse tampering,
//! and let the stock `ostree` CLI pull what we published.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const REF: &str = "mxos/10/x86_64/demo";

fn deployment_dir(sysroot: &Path, checksum: &str) -> std::path::PathBuf {
    let base = sysroot.join("ostree/deploy/mxos/deploy");
    let name = fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with(checksum) && !n.ends_with(".origin"))
        .unwrap_or_else(|| panic!("no deployment of {checksum}"));
    base.join(name)
}

#[test]
fn compose_publish_deploy_upgrade_rollback_over_http() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let gen2 = mxos_tests::shared_demo_repo(2).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let ws = workspace();
    let (build, public, sysroot) = (t.join("build"), t.join("public"), t.join("sysroot"));
    let key = t.join("mxos.secret");
    compose(&["keygen", &s(&t.join("mxos"))]);
    let overlays = s(&ws.join("overlays"));

    // v1 from the real demo treefile.
    let v1_tree = demo_treefile(&t.join("v1"), &gen1, "");
    let out = compose_signed(&v1_tree, &build, &key);
    let c1 = committed(&out);
    assert!(
        out.contains("version 10.20251129.0, 7 packages, signed"),
        "{out}"
    );
    assert_eq!(
        compose(&[
            "tree",
            &s(&v1_tree),
            "--repo",
            &s(&build),
            "--overlays",
            &overlays
        ]),
        format!("no changes since {c1} ({REF})\n")
    );
    let verified = compose(&[
        "verify",
        "--repo",
        &s(&build),
        REF,
        "--pubkey",
        &s(&t.join("mxos.pub")),
    ]);
    assert_eq!(
        verified,
        format!(
            "{c1} : good ed25519 signature by {}\n",
            fs::read_to_string(t.join("mxos.pub")).unwrap().trim()
        )
    );

    fs::create_dir_all(&public).unwrap();
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let url = nginx.url();
    let out = publish(&build, &public, &key, &url, &[]);
    assert!(out.contains(&format!("published {REF} = {c1}")), "{out}");
    let conf = fs::read_to_string(public.join("mxos.conf")).unwrap();
    assert!(conf.contains(&format!("url={url}\n")), "{conf}");
    assert!(public.join("summary.sig").exists());
    assert!(
        !ostree(&["--repo", &s(&public), "refs"]).contains("overlay"),
        "overlay layers are not published"
    );

    // Interop: the stock ostree CLI pulls the published ref over HTTP.
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
    assert_eq!(
        ostree(&["--repo", &s(&client), "rev-parse", &format!("mxos:{REF}")]).trim(),
        c1
    );
    ostree(&["--repo", &s(&client), "fsck"]);

    // A device: set up, first deployment over HTTP.
    let msg = update(
        &sysroot,
        &[
            "init",
            "--remote-conf",
            &s(&public.join("mxos.conf")),
            "--ref",
            REF,
        ],
    );
    assert_eq!(msg, format!("Ready: this machine will follow mxos:{REF}. Run `mxos-update upgrade` to install the first version.\n"));
    let msg = update_env(&sysroot, &["upgrade"], &[("LANG", "es_MX.UTF-8")]);
    assert!(msg.starts_with("Actualización 10.20251129.0 ("), "{msg}");
    assert_eq!(deployments(&sysroot), vec![c1.clone()]);
    let d1 = deployment_dir(&sysroot, &c1);
    assert_eq!(
        fs::read_to_string(d1.join("etc/locale.conf")).unwrap(),
        "LANG=es_MX.UTF-8\n"
    );
    assert_eq!(
        fs::read_to_string(d1.join("etc/vconsole.conf")).unwrap(),
        "KEYMAP=la-latin1\n"
    );
    assert_eq!(
        fs::read_link(d1.join("etc/localtime"))
            .unwrap()
            .to_str()
            .unwrap(),
        "../usr/share/zoneinfo/America/Mexico_City"
    );
    let os_release = fs::read_to_string(d1.join("usr/lib/os-release")).unwrap();
    assert!(
        os_release.starts_with("NAME=\"MxOS\"\n")
            && os_release.contains("ID_LIKE=\"centos rhel fedora\"")
    );
    assert_eq!(
        fs::read_to_string(d1.join("usr/share/mxos-hello/post-ran")).unwrap(),
        "post ran for mxos-hello\n"
    );
    assert_eq!(
        fs::read_to_string(d1.join("usr/share/mxos-hello/compose-note")).unwrap(),
        "compuesto por mxos-compose\n"
    );
    assert_eq!(
        fs::read_link(d1.join("etc/systemd/system/multi-user.target.wants/mxos-demo.service"))
            .unwrap()
            .to_str()
            .unwrap(),
        "/usr/lib/systemd/system/mxos-demo.service"
    );
    // The person's change to /etc must survive the upgrade (3-way merge).
    fs::write(d1.join("etc/hostname"), "aula-3-pc-07\n").unwrap();
    assert_eq!(
        update(&sysroot, &["upgrade"]),
        "The system is up to date (10.20251129.0).\n"
    );

    // v2: one package changed.
    let v2_tree = demo_treefile(&t.join("v2"), &gen2, "");
    let c2 = committed(&compose_signed(&v2_tree, &build, &key));
    assert_ne!(c1, c2);
    let parent = ostree(&["--repo", &s(&build), "rev-parse", &format!("{c2}^")]);
    assert_eq!(parent.trim(), c1);
    publish(&build, &public, &key, &url, &[]);
    assert!(
        ostree(&["--repo", &s(&public), "show", &c1]).contains("10.20251129.0"),
        "publishing again only adds"
    );
    let msg = update(&sysroot, &["upgrade"]);
    assert!(
        msg.starts_with(&format!(
            "Update 10.20251129.1 ({}) installed and verified",
            &c2[..12]
        )),
        "{msg}"
    );
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);
    let d2 = deployment_dir(&sysroot, &c2);
    assert_eq!(
        fs::read_to_string(d2.join("usr/share/mxos-hello/NEWS")).unwrap(),
        "1.1: nueva versión\n"
    );
    assert_eq!(
        fs::read_to_string(d2.join("etc/hostname")).unwrap(),
        "aula-3-pc-07\n"
    );
    let status = update_env(&sysroot, &["status"], &[("LANG", "es_MX.UTF-8")]);
    assert!(
        status.starts_with(&format!("● 10.20251129.1 {} [predeterminada]\n", &c2[..12])),
        "{status}"
    );

    // Rollback makes v1 the default again, keeping v2.
    assert_eq!(
        update(&sysroot, &["rollback"]),
        "Rolled back to version 10.20251129.0; it will be used at the next boot.\n"
    );
    assert_eq!(deployments(&sysroot), vec![c1.clone(), c2.clone()]);
    update(&sysroot, &["rollback"]);
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);

    // Tampering: an unsigned v3 slipped into the public repo is refused, nothing changes.
    let v3_tree = demo_treefile(
        &t.join("v3"),
        &gen2,
        "  - echo v3 > /usr/share/mxos-hello/v3-marker\n",
    );
    let c3 = committed(&compose(&[
        "tree",
        &s(&v3_tree),
        "--repo",
        &s(&build),
        "--overlays",
        &overlays,
    ]));
    let err = compose_fails(&[
        "publish",
        "--repo",
        &s(&build),
        "--to",
        &s(&public),
        "--sign-key",
        &s(&key),
    ]);
    assert!(
        err.contains(&format!(
            "error: ref `{REF}` is not signed by the publishing key"
        )),
        "{err}"
    );
    let sneak_unsigned = |repo: &Path| {
        ostree(&["--repo", &s(repo), "pull-local", &s(&build), REF]);
        let summary = repo.join("summary");
        let before = fs::metadata(&summary).and_then(|m| m.modified()).ok();
        ostree(&["--repo", &s(repo), "summary", "-u"]);
        // nginx validates caches by whole seconds: a summary rewritten within the second
        // the device last fetched it (same size: only a checksum changed) would be answered
        // with 304, and the device would never see the sneaked commit at all.
        mxos_repo::newer_than(&summary, before).unwrap();
    };
    // The first line: a summary nobody signed (as `ostree summary -u` leaves it) is refused
    // before any commit is looked at.
    sneak_unsigned(&public);
    let before_sneak = deployments(&sysroot);
    assert_eq!(
        update_fails(&sysroot, &["upgrade"]),
        "error: remote `mxos` has no summary.sig: its list of versions is not signed, so this machine does not use it\n"
    );
    assert_eq!(deployments(&sysroot), before_sneak);
    // The second line, the commit's own signature, for a server whose summary key signs
    // whatever lands in the repo: re-list and re-sign the summary with the trusted key.
    let sneak = |repo: &Path| {
        sneak_unsigned(repo);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let summary = repo.join("summary");
        let before = fs::metadata(&summary).and_then(|m| m.modified()).ok();
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        mxos_repo::Repo::open(repo)
            .unwrap()
            .regenerate_summary_expiring(Some(expires))
            .unwrap();
        mxos_repo::newer_than(&summary, before).unwrap();
        mxos_sign::sign_summary(repo, &mxos_sign::SecretKey::read(&key).unwrap()).unwrap();
    };
    sneak(&public);
    let err = update_fails(&sysroot, &["upgrade"]);
    assert!(err.starts_with("Update refused: it could not be verified as coming from MxOS. The machine keeps the version it had.\n"), "{err}");
    assert_eq!(
        err,
        format!(
            "Update refused: it could not be verified as coming from MxOS. The machine keeps the version it had.\n\
             error: commit {c3} is not signed by a key this machine trusts; not deploying it\n  \
             caused by: no ed25519 signature (ostree.sign.ed25519) found\n"
        )
    );
    let (code, _, err) = update_run(&sysroot, &["upgrade"], &[("LANG", "es_MX.UTF-8")]);
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "Actualización rechazada: no se pudo comprobar que viene de MxOS. El equipo conserva la versión que tenía.\n\
                 error: el commit {c3} no está firmado con una llave en la que este equipo confíe; no se instalará\n  \
                 causa: no se encontró ninguna firma ed25519 (ostree.sign.ed25519)\n"
            )
        )
    );
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);
    let local = ostree(&[
        "--repo",
        &s(&sysroot.join("ostree/repo")),
        "rev-parse",
        &format!("mxos:{REF}"),
    ]);
    assert_eq!(
        local.trim(),
        c2,
        "the followed ref is restored after a refusal"
    );

    // Signed, but by a key the device does not trust.
    compose(&["keygen", &s(&t.join("stranger"))]);
    compose(&[
        "sign",
        "--repo",
        &s(&build),
        REF,
        "--key",
        &s(&t.join("stranger.secret")),
    ]);
    sneak(&public);
    let err = update_fails(&sysroot, &["upgrade"]);
    assert!(
        err.contains("none of its 1 ed25519 signature(s) was made by a trusted key"),
        "{err}"
    );
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);

    // Properly signed, but a file object altered on the server: libostree's checksums catch it.
    compose(&["sign", "--repo", &s(&build), REF, "--key", &s(&key)]);
    sneak(&public);
    let marker = ostree(&[
        "--repo",
        &s(&public),
        "ls",
        "-C",
        REF,
        "/usr/share/mxos-hello/v3-marker",
    ]);
    let obj = marker.split_whitespace().nth(4).unwrap().to_owned();
    let obj_path = public.join(format!("objects/{}/{}.filez", &obj[..2], &obj[2..]));
    let mut bytes = fs::read(&obj_path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&obj_path, bytes).unwrap();
    let err = update_fails(&sysroot, &["upgrade"]);
    assert!(err.contains("downloading the verified commit"), "{err}");
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);

    // Signed by the trusted key but older than what runs: a downgrade, refused in the
    // machine's language.
    let old = ostree(&[
        "--repo",
        &s(&build),
        "commit",
        &format!("--branch={REF}"),
        &format!("--tree=ref={c2}"),
        "--timestamp=2020-01-01 00:00:00 +0000",
        "--add-metadata-string=version=9.0",
        "--add-metadata=ostree.bootable=true",
    ])
    .trim()
    .to_owned();
    compose(&["sign", "--repo", &s(&build), REF, "--key", &s(&key)]);
    sneak(&public);
    let (code, _, err) = update_run(&sysroot, &["upgrade"], &[("LANG", "es_MX.UTF-8")]);
    assert_eq!(
        (code, err),
        (
            1,
            format!(
                "error: el commit {old} (9.0) es anterior al instalado {c2} (10.20251129.1); no se regresa a una versión anterior (para eso, la flota publica el contenido viejo como un commit nuevo)\n"
            )
        )
    );
    assert_eq!(deployments(&sysroot), vec![c2.clone(), c1.clone()]);
    drop(nginx);
}

/// Uses `treefiles/mxos-demo.yaml` itself, whose `.repo` files point at the shared demo
/// RPMs and the packaged agent.
#[test]
fn same_inputs_give_the_same_commit_in_different_work_dirs() {
    mxos_tests::shared_demo_repo(1).unwrap();
    shared_tools_repo();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let overlays = s(&workspace().join("overlays"));
    let tree = workspace().join("treefiles/mxos-demo.yaml");
    let a = committed(&compose(&[
        "tree",
        &s(&tree),
        "--repo",
        &s(&t.join("a")),
        "--workdir",
        &s(&t.join("wa")),
        // The work dir must share the package cache's filesystem (hard links).
        "--cachedir",
        &s(&t.join("cache")),
        "--overlays",
        &overlays,
    ]));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = committed(&compose(&[
        "tree",
        &s(&tree),
        "--repo",
        &s(&t.join("b")),
        "--mode",
        "archive",
        "--workdir",
        &s(&t.join("work-b")),
        "--cachedir",
        &s(&t.join("cache")),
        "--overlays",
        &overlays,
    ]));
    assert_eq!(a, b, "same inputs must give the same commit");
    // And the repo's whole content agrees file by file.
    let la = ostree(&["--repo", &s(&t.join("a")), "ls", "-R", "-C", &a]);
    let lb = ostree(&["--repo", &s(&t.join("b")), "ls", "-R", "-C", &b]);
    assert_eq!(la, lb);
}
