//! The dnf backend's package cache: a recompose unpacks only new packages, takes unchanged
//! files' checksums from the cache, gives the commit a fresh compose would give, and a
//! scriptlet that writes through a cache link costs the cache, never the commit.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use mxos_tests::{FileEntry, PackageSpec};

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn tree(treefile: &Path, repo: &Path, cache: &Path, extra: &[&str]) -> (String, String) {
    let overlays = s(&workspace().join("overlays"));
    let mut args = vec![
        "tree",
        treefile.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
        "--mode",
        "archive",
        "--cachedir",
        cache.to_str().unwrap(),
        "--overlays",
        &overlays,
    ];
    args.extend_from_slice(extra);
    compose_with_stderr(&args)
}

/// A repo of the demo's filesystem, shell and kernel plus `extra`, and a treefile `name`
/// installing `packages` (and the kernel) from it.
fn small_tree(t: &Path, name: &str, extra: Vec<PackageSpec>, packages: &[&str]) -> PathBuf {
    let mut pkgs: Vec<PackageSpec> = mxos_tests::demo_packages(1)
        .into_iter()
        .filter(|p| {
            ["mxos-filesystem", "mxos-shell", "mxos-test-kernel"].contains(&p.name.as_str())
        })
        .collect();
    pkgs.extend(extra);
    let rpms = t.join("rpms");
    mxos_tests::build_repo(&rpms, &pkgs).unwrap();
    fs::create_dir_all(t.join("tf")).unwrap();
    let tf = t.join(format!("tf/{name}.yaml"));
    fs::write(
        &tf,
        format!(
            "ref: mxos/test/{name}\nrepos: [{name}]\npackages: [{}, mxos-test-kernel]\nboot-location: modules\n",
            packages.join(", ")
        ),
    )
    .unwrap();
    fs::write(
        t.join(format!("tf/{name}.repo")),
        format!("[{name}]\nbaseurl=file://{}\ngpgcheck=0\n", rpms.display()),
    )
    .unwrap();
    tf
}

fn cache_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("package cache: "))
        .unwrap_or_else(|| panic!("no package cache line in: {stdout}"))
}

/// `ostree checkout` of an archive commit, then rpm's view of every packaged file.
fn rpm_file_states(repo: &Path, commit: &str, dest: &Path) -> Vec<String> {
    ostree(&["--repo", &s(repo), "checkout", "-U", commit, &s(dest)]);
    let out = std::process::Command::new("rpm")
        .args([
            "--root",
            &s(dest),
            "--dbpath",
            "/usr/lib/sysimage/rpm",
            "-qa",
        ])
        .args(["--qf", "[%{FILESTATES:fstate}\\n]"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut states: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    states.sort();
    states.dedup();
    states
}

#[test]
fn a_recompose_unpacks_only_the_changed_package_and_gives_the_fresh_commit() {
    let (gen1, gen2) = (
        mxos_tests::shared_demo_repo(1).unwrap(),
        mxos_tests::shared_demo_repo(2).unwrap(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let tf1 = demo_treefile(&t.join("tf1"), &gen1, "");
    let tf2 = demo_treefile(&t.join("tf2"), &gen2, "");

    // One cache kept across both composes.
    let (repo, cache) = (t.join("repo"), t.join("cache"));
    let (out, _) = tree(&tf1, &repo, &cache, &[]);
    assert_eq!(
        cache_line(&out),
        "package cache: 7 of 7 packages unpacked, 0 files taken from the cache unread"
    );
    let (out, err) = tree(&tf2, &repo, &cache, &[]);
    // Only mxos-hello changed; the other packages' files that end up in the commit
    // (busybox, os-release, greeting, two units, kernel, initramfs) are not read again.
    assert_eq!(
        cache_line(&out),
        "package cache: 1 of 7 packages unpacked, 7 files taken from the cache unread"
    );
    assert!(!err.contains("warning"), "{err}");
    let cached = committed(&out);

    // The same history with a new, empty cache for every compose.
    let fresh = t.join("fresh");
    tree(&tf1, &fresh, &t.join("cache-a"), &[]);
    let (out, _) = tree(&tf2, &fresh, &t.join("cache-b"), &[]);
    // Every package unpacked; the files the build repo already holds are still not read.
    assert_eq!(
        cache_line(&out),
        "package cache: 7 of 7 packages unpacked, 7 files taken from the cache unread"
    );
    assert_eq!(committed(&out), cached, "the cache changed the commit");

    // The scriptlets ran against linked files without touching the cache's objects.
    ostree(&["--repo", &s(&cache.join("pkgcache")), "fsck"]);
    assert_eq!(
        ostree(&[
            "--repo",
            &s(&repo),
            "cat",
            &cached,
            "/usr/share/mxos-hello/post-ran"
        ]),
        "post ran for mxos-hello\n"
    );
    // rpm's database is the one of a normal install: no file left "net shared".
    assert_eq!(
        rpm_file_states(&repo, &cached, &t.join("co")),
        vec!["normal"]
    );

    // A month later: what no compose used for 30 days (v1's mxos-hello) leaves the cache.
    let pkgcache = s(&cache.join("pkgcache"));
    let pkg_refs = || ostree(&["--repo", &pkgcache, "refs"]).lines().count();
    assert_eq!(pkg_refs(), 8);
    let month_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86_400);
    for f in fs::read_dir(cache.join("pkgcache/refs/heads/mxos/pkg")).unwrap() {
        fs::File::options()
            .write(true)
            .open(f.unwrap().path())
            .unwrap()
            .set_modified(month_ago)
            .unwrap();
    }
    let (out, _) = tree(&tf2, &repo, &cache, &["--force-nocache"]);
    // Nothing to unpack, and now mxos-hello's two files come from the cache too.
    assert_eq!(
        cache_line(&out),
        "package cache: 0 of 7 packages unpacked, 9 files taken from the cache unread; removed 1 unused for 30 days"
    );
    assert_eq!(pkg_refs(), 7);
    ostree(&["--repo", &pkgcache, "fsck"]);
}

#[test]
fn a_scriptlet_writing_through_a_cache_link_costs_the_cache_not_the_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let mut appender = PackageSpec::new("mxos-appender", "a %post that appends to its own file");
    appender.requires = vec!["mxos-shell".into()];
    appender.files = vec![FileEntry::File {
        path: "/usr/share/mxos-appender-list".into(),
        contents: b"one\n".to_vec(),
        mode: 0o644,
    }];
    appender.post = Some("echo two >> /usr/share/mxos-appender-list".into());
    let mut owned = PackageSpec::new("mxos-owned", "files owned by a user its %pre creates");
    owned.requires = vec!["mxos-shell".into()];
    owned.pre = Some(
        "grep -q '^mxdaemon:' /etc/passwd || echo 'mxdaemon:x:250:250::/:/sbin/nologin' >> /etc/passwd\n\
         grep -q '^mxdaemon:' /etc/group || echo 'mxdaemon:x:250:' >> /etc/group"
            .into(),
    );
    owned.files = vec![
        FileEntry::File {
            path: "/usr/share/mxos-owned-data".into(),
            contents: b"secret\n".to_vec(),
            mode: 0o640,
        },
        FileEntry::File {
            path: "/usr/bin/mxos-owned-helper".into(),
            contents: b"#!/bin/sh\n".to_vec(),
            mode: 0o2755,
        },
    ];
    owned.owners = vec![
        (
            "/usr/share/mxos-owned-data".into(),
            "mxdaemon".into(),
            "mxdaemon".into(),
        ),
        (
            "/usr/bin/mxos-owned-helper".into(),
            "root".into(),
            "mxdaemon".into(),
        ),
    ];
    let tf = small_tree(
        t,
        "links",
        vec![appender, owned],
        &["mxos-filesystem", "mxos-appender", "mxos-owned"],
    );
    let (repo, cache) = (t.join("repo"), t.join("cache"));

    let (out, err) = tree(&tf, &repo, &cache, &[]);
    assert_eq!(
        cache_line(&out),
        "package cache: 5 of 5 packages unpacked, 0 files taken from the cache unread"
    );
    assert!(
        err.contains("warning: the package cache was deleted: scriptlets or postprocessing wrote in place to ")
            && err.contains("/root/usr/share/mxos-appender-list (the commit hashed their new content)"),
        "{err}"
    );
    assert!(
        !cache.join("pkgcache").exists(),
        "the written-through cache is still there"
    );
    let first = committed(&out);
    let r = s(&repo);
    assert_eq!(
        ostree(&["--repo", &r, "cat", &first, "/usr/share/mxos-appender-list"]),
        "one\ntwo\n"
    );
    // Owners from the rpm headers, by the ids %pre created; chown kept the setgid bit.
    let listing = ostree(&[
        "--repo",
        &r,
        "ls",
        &first,
        "/usr/share/mxos-owned-data",
        "/usr/bin/mxos-owned-helper",
    ]);
    assert!(
        listing.contains("-00640 250 250      7 /usr/share/mxos-owned-data"),
        "{listing}"
    );
    assert!(
        listing.contains("-02755 0 250     10 /usr/bin/mxos-owned-helper"),
        "{listing}"
    );

    // Starting from an empty cache again gives the same tree.
    let (out, _) = tree(&tf, &repo, &cache, &["--force-nocache"]);
    // busybox and the kernel's two files are in the build repo already; the appended list
    // is hashed again, and the cache deleted again.
    assert_eq!(
        cache_line(&out),
        "package cache: 5 of 5 packages unpacked, 3 files taken from the cache unread"
    );
    let show = |c: &str| {
        ostree(&["--repo", &r, "show", c])
            .lines()
            .find(|l| l.starts_with("ContentChecksum:"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(show(&committed(&out)), show(&first));
}

#[test]
fn an_unchanged_tree_is_recognised_before_dnf_runs_and_new_repo_metadata_is_resolved() {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let rpms = t.join("rpms");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(&gen1)
        .arg(&rpms)
        .status()
        .unwrap();
    assert!(cp.success());
    let tf = demo_treefile(&t.join("tf"), &rpms, "");
    let (repo, cache) = (t.join("repo"), t.join("cache"));
    let (out, _) = tree(&tf, &repo, &cache, &[]);
    let c1 = committed(&out);

    // Same treefile, same repomd.xml: no dnf run at all (commands are traced as `+ ...`).
    let (out, err) = tree(&tf, &repo, &cache, &[]);
    assert_eq!(
        out,
        format!("no changes since {c1} (mxos/10/x86_64/demo)\n")
    );
    assert!(
        !err.contains(" dnf "),
        "dnf ran for an unchanged tree:\n{err}"
    );

    // New metadata for the same packages: dnf resolves, and finds the same inputs.
    let createrepo = std::process::Command::new("createrepo_c")
        .args(["--quiet", "--revision", "2"])
        .arg(&rpms)
        .status()
        .unwrap();
    assert!(createrepo.success());
    let (out, err) = tree(&tf, &repo, &cache, &[]);
    assert_eq!(
        out,
        format!("no changes since {c1} (mxos/10/x86_64/demo)\n")
    );
    assert!(
        err.contains(" dnf "),
        "dnf did not resolve new metadata:\n{err}"
    );

    // The repo updated in place (same URL, mxos-hello 1.0 → 1.1): dnf's kept metadata is
    // checked against the new repomd.xml, so the update is seen at once.
    let gen2 = mxos_tests::shared_demo_repo(2).unwrap();
    fs::remove_file(rpms.join("mxos-hello-1.0-1.noarch.rpm")).unwrap();
    fs::copy(
        gen2.join("mxos-hello-1.1-1.noarch.rpm"),
        rpms.join("mxos-hello-1.1-1.noarch.rpm"),
    )
    .unwrap();
    let createrepo = std::process::Command::new("createrepo_c")
        .args(["--quiet", "--revision", "3"])
        .arg(&rpms)
        .status()
        .unwrap();
    assert!(createrepo.success());
    let (out, _) = tree(&tf, &repo, &cache, &[]);
    let c2 = committed(&out);
    let packages = ostree(&[
        "--repo",
        &s(&repo),
        "show",
        "--print-metadata-key=mxos.packages",
        &c2,
    ]);
    assert!(packages.contains("'mxos-hello-1.1-1.noarch'"), "{packages}");
}

#[test]
fn file_triggers_fire_on_files_of_packages_that_have_no_scriptlets() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Like ldconfig's trigger in glibc: it lists what lands under a directory.
    let mut host = PackageSpec::new("mxos-plugin-host", "indexes plugins with a file trigger");
    host.requires = vec!["mxos-shell".into()];
    host.files = vec![FileEntry::Dir {
        path: "/usr/lib/mxos-plugins".into(),
        mode: 0o755,
    }];
    host.scriptlets = vec![(
        "%transfiletriggerin -- /usr/lib/mxos-plugins".into(),
        "/usr/bin/busybox sort > /usr/share/mxos-plugins.index".into(),
    )];
    let mut plugin = PackageSpec::new("mxos-plugin-a", "a plugin without any scriptlet");
    plugin.requires = vec!["mxos-filesystem".into()];
    plugin.files = vec![FileEntry::File {
        path: "/usr/lib/mxos-plugins/a.so".into(),
        contents: b"plugin a\n".to_vec(),
        mode: 0o755,
    }];
    let tf = small_tree(
        t,
        "plugins",
        vec![host, plugin],
        &["mxos-plugin-host", "mxos-plugin-a"],
    );
    let repo = t.join("repo");
    let (out, _) = tree(&tf, &repo, &t.join("cache"), &[]);
    assert_eq!(
        ostree(&[
            "--repo",
            &s(&repo),
            "cat",
            &committed(&out),
            "/usr/share/mxos-plugins.index"
        ]),
        "/usr/lib/mxos-plugins/a.so\n"
    );
}

#[test]
fn a_work_dir_off_the_cache_filesystem_is_refused_with_the_fix() {
    // /dev/shm is a tmpfs on every Debian machine; the cache is on the disk.
    let shm = Path::new("/dev/shm");
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let work = tempfile::tempdir_in(shm).unwrap();
    let dev = |p: &Path| std::os::unix::fs::MetadataExt::dev(&fs::metadata(p).unwrap());
    assert_ne!(
        dev(shm),
        dev(t),
        "the test needs /dev/shm on another filesystem"
    );
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let tf = demo_treefile(&t.join("tf"), &gen1, "");
    let repo = t.join("repo");
    let overlays = s(&workspace().join("overlays"));
    let err = compose_fails(&[
        "tree",
        &s(&tf),
        "--repo",
        &s(&repo),
        "--cachedir",
        &s(&t.join("cache")),
        "--workdir",
        &s(work.path()),
        "--overlays",
        &overlays,
    ]);
    assert!(
        err.contains(&format!(
            "{}/root and {}/pkgcache are on different filesystems, so a root cannot be assembled from hard links into the package cache; put the work dir on the cache's filesystem (e.g. inside --cachedir)",
            work.path().display(),
            t.join("cache").display()
        )),
        "{err}"
    );
    assert_eq!(
        ostree(&["--repo", &s(&repo), "refs"]),
        "",
        "nothing may be committed"
    );
}
