//! The MxOS demo package set: a tiny bootable-looking OS whose generation 2 updates mxos-hello.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};

use crate::lock::with_file_lock;
use crate::rpms::{build_signed_repo, content_hash, FileEntry, PackageSpec};
use crate::signing::{Signer, DEMO_PUBLIC_KEY};

/// Where [`shared_demo_repo`] caches its builds, shared by every test process on the machine.
pub const SHARED_CACHE_DIR: &str = "/var/cache/mxos/test-rpms";

const STAMP_FILE: &str = ".mxos-demo-stamp";

fn dir(path: &str, mode: u32) -> FileEntry {
    FileEntry::Dir {
        path: path.to_owned(),
        mode,
    }
}

fn file(path: &str, contents: &str, mode: u32) -> FileEntry {
    FileEntry::File {
        path: path.to_owned(),
        contents: contents.as_bytes().to_vec(),
        mode,
    }
}

fn link(path: &str, target: &str) -> FileEntry {
    FileEntry::Symlink {
        path: path.to_owned(),
        target: target.to_owned(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The demo packages for `generation` 1 (v1) or 2 (v2, where only mxos-hello changes).
///
/// # Panics
/// On any other generation; [`build_demo_repo`] checks before calling.
pub fn demo_packages(generation: u32) -> Vec<PackageSpec> {
    assert!(
        matches!(generation, 1 | 2),
        "demo generation must be 1 or 2, got {generation}"
    );
    let v2 = generation == 2;
    let needs_fs = strings(&["mxos-filesystem"]);

    let mut filesystem = PackageSpec::new("mxos-filesystem", "MxOS base directory layout");
    filesystem.files = [
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/usr/lib64",
        "/usr/share",
        "/usr/lib/systemd",
        "/usr/lib/systemd/system",
        "/usr/lib/tmpfiles.d",
        "/etc",
        "/var",
        "/var/lib",
        "/var/lib/mxos-demo",
        "/var/log",
        "/boot",
        "/root",
        "/home",
        "/opt",
        "/run",
        "/dev",
        "/proc",
        "/sys",
        "/srv",
        "/mnt",
        "/media",
    ]
    .into_iter()
    // /root is conventionally private.
    .map(|p| dir(p, if p == "/root" { 0o550 } else { 0o755 }))
    .chain([
        dir("/tmp", 0o1777),
        link("/bin", "usr/bin"),
        link("/sbin", "usr/sbin"),
        link("/lib", "usr/lib"),
        link("/lib64", "usr/lib64"),
        file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
        file("/etc/group", "root:x:0:\n", 0o644),
        file("/etc/shadow", "root:*::0:99999:7:::\n", 0o000),
        file("/etc/hostname", "localhost\n", 0o644),
        // Gives the composer /var content it has to move out of the commit.
        file("/var/lib/mxos-demo/seed.txt", "seed\n", 0o644),
    ])
    .collect();

    let mut shell = PackageSpec::new("mxos-shell", "Static busybox providing /bin/sh");
    shell.buildarch_noarch = false;
    shell.requires = needs_fs.clone();
    shell.provides = strings(&["/bin/sh", "/usr/bin/sh"]);
    shell.files = vec![
        FileEntry::HostFile {
            path: "/usr/bin/busybox".to_owned(),
            source: PathBuf::from("/bin/busybox"),
            mode: 0o755,
        },
        link("/usr/bin/sh", "busybox"),
    ];

    let mut release = PackageSpec::new("mxos-release", "MxOS release files");
    release.requires = needs_fs.clone();
    release.provides = strings(&["system-release", "system-release(releasever) = 10"]);
    release.files = vec![
        file(
            "/usr/lib/os-release",
            concat!(
                "NAME=\"MxOS\"\n",
                "ID=mxos\n",
                "VERSION=\"10\"\n",
                "VERSION_ID=\"10\"\n",
                "PRETTY_NAME=\"MxOS 10\"\n",
                "HOME_URL=\"https://mxos.invalid/\"\n",
            ),
            0o644,
        ),
        link("/etc/os-release", "../usr/lib/os-release"),
    ];

    let mut hello_data = PackageSpec::new("mxos-hello-data", "Data files for mxos-hello");
    hello_data.requires = needs_fs.clone();
    hello_data.files = vec![
        dir("/usr/share/mxos-hello", 0o755),
        file(
            "/usr/share/mxos-hello/greeting.txt",
            "Hola desde MxOS\n",
            0o644,
        ),
    ];

    let mut hello = PackageSpec::new("mxos-hello", "Prints the MxOS greeting");
    hello.requires = strings(&["mxos-filesystem", "mxos-hello-data", "mxos-shell"]);
    // mxos-shell ships no applet links besides sh, so call cat through busybox itself
    // (busybox's standalone-shell mode needs /proc, which a chroot may lack).
    let mut script =
        String::from("#!/bin/sh\n/usr/bin/busybox cat /usr/share/mxos-hello/greeting.txt\n");
    if v2 {
        hello.version = "1.1".to_owned();
        script.push_str("echo v2\n");
    }
    hello.files = vec![file("/usr/bin/mxos-hello", &script, 0o755)];
    if v2 {
        hello.files.push(file(
            "/usr/share/mxos-hello/NEWS",
            "1.1: nueva versión\n",
            0o644,
        ));
    }
    // Lets tests see that scriptlets really ran inside the install root.
    hello.post =
        Some("echo \"post ran for mxos-hello\" > /usr/share/mxos-hello/post-ran\n".to_owned());

    let mut unit = PackageSpec::new("mxos-demo-unit", "systemd unit running mxos-hello at boot");
    unit.requires = strings(&["mxos-filesystem", "mxos-hello"]);
    unit.files = vec![
        file(
            "/usr/lib/systemd/system/mxos-demo.service",
            concat!(
                "[Unit]\n",
                "Description=MxOS demo greeting\n",
                "\n",
                "[Service]\n",
                "Type=oneshot\n",
                "ExecStart=/usr/bin/mxos-hello\n",
                "RemainAfterExit=yes\n",
                "\n",
                "[Install]\n",
                "WantedBy=multi-user.target\n",
            ),
            0o644,
        ),
        // There is no systemd package in the demo set, so a default.target has to point
        // at something we ship.
        file(
            "/usr/lib/systemd/system/multi-user.target",
            "[Unit]\nDescription=Multi-User System\n",
            0o644,
        ),
    ];

    let mut kernel = PackageSpec::new(
        "mxos-test-kernel",
        "Dummy kernel so ostree deploys the tree",
    );
    kernel.requires = needs_fs;
    kernel.files = vec![
        dir("/usr/lib/modules", 0o755),
        dir("/usr/lib/modules/6.1.0-mxos", 0o755),
        file(
            "/usr/lib/modules/6.1.0-mxos/vmlinuz",
            "not a real kernel\n",
            0o644,
        ),
        file(
            "/usr/lib/modules/6.1.0-mxos/initramfs.img",
            "not a real initramfs\n",
            0o644,
        ),
    ];

    vec![filesystem, shell, release, hello_data, hello, unit, kernel]
}

fn check_generation(generation: u32) -> Result<()> {
    ensure!(
        matches!(generation, 1 | 2),
        "demo generation must be 1 or 2, got {generation}"
    );
    Ok(())
}

/// Builds the demo packages of `generation`, signed by the demo key, plus repodata into
/// `out_dir`.
pub fn build_demo_repo(out_dir: &Path, generation: u32) -> Result<()> {
    check_generation(generation)?;
    let signer = Signer::demo()?;
    build_signed_repo(out_dir, &demo_packages(generation), Some(&signer))
        .with_context(|| format!("building demo repo generation {generation}"))
}

/// A demo repo for `generation` built at most once per content change and shared by all
/// tests, under `/var/cache/mxos/test-rpms/signed-gen-N/`, signed by the demo key. Treat it as read-only.
pub fn shared_demo_repo(generation: u32) -> Result<PathBuf> {
    shared_demo_repo_in(Path::new(SHARED_CACHE_DIR), generation)
}

/// [`shared_demo_repo`] with a different cache root.
pub fn shared_demo_repo_in(cache_root: &Path, generation: u32) -> Result<PathBuf> {
    check_generation(generation)?;
    let packages = demo_packages(generation);
    // The signing key is part of the content: a new key rebuilds the cache.
    let hash = blake3::hash(format!("{}\n{DEMO_PUBLIC_KEY}", content_hash(&packages)?).as_bytes())
        .to_hex()
        .to_string();
    // Not `gen-N`, where unsigned builds lived: trees of both kinds can share a machine.
    let repo = cache_root.join(format!("signed-gen-{generation}"));
    let lock = cache_root.join(format!("signed-gen-{generation}.lock"));
    with_file_lock(&lock, || {
        let stamp = repo.join(STAMP_FILE);
        if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == hash) {
            return Ok(());
        }
        // Build beside the final location and rename, so a crash mid-build never leaves
        // a half-written repo that a later reader (without the lock) could pick up.
        let partial = cache_root.join(format!("signed-gen-{generation}.partial"));
        for stale in [&partial, &repo] {
            if stale.exists() {
                fs::remove_dir_all(stale)
                    .with_context(|| format!("removing stale {}", stale.display()))?;
            }
        }
        let signer = Signer::demo()?;
        build_signed_repo(&partial, &packages, Some(&signer))
            .with_context(|| format!("building shared demo repo generation {generation}"))?;
        let partial_stamp = partial.join(STAMP_FILE);
        fs::write(&partial_stamp, format!("{hash}\n"))
            .with_context(|| format!("writing {}", partial_stamp.display()))?;
        fs::rename(&partial, &repo)
            .with_context(|| format!("renaming {} to {}", partial.display(), repo.display()))?;
        Ok(())
    })?;
    Ok(repo)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::process::Command;

    use super::*;
    use crate::run;

    fn rpms_in(dir: &Path) -> Vec<PathBuf> {
        let mut rpms: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
            .collect();
        rpms.sort();
        rpms
    }

    fn query(rpm: &Path, args: &[&str]) -> String {
        run(Command::new("rpm").arg("-qp").args(args).arg(rpm)).unwrap()
    }

    fn find<'a>(rpms: &'a [PathBuf], name: &str) -> &'a Path {
        rpms.iter()
            .find(|p| {
                let f = p.file_name().unwrap().to_string_lossy();
                f.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with("-1"))
            })
            .unwrap_or_else(|| panic!("no rpm for {name} in {rpms:?}"))
    }

    #[test]
    fn every_package_but_filesystem_requires_filesystem() {
        for generation in [1, 2] {
            for pkg in demo_packages(generation) {
                if pkg.name != "mxos-filesystem" {
                    assert!(
                        pkg.requires.iter().any(|r| r == "mxos-filesystem"),
                        "{}",
                        pkg.name
                    );
                }
            }
        }
    }

    #[test]
    fn generation_one_repo_has_the_seven_packages() {
        let out = tempfile::tempdir().unwrap();
        build_demo_repo(out.path(), 1).unwrap();
        assert!(out.path().join("repodata/repomd.xml").is_file());

        let rpms = rpms_in(out.path());
        let mut listed: Vec<String> = rpms
            .iter()
            .map(|r| {
                query(r, &["--qf", "%{NAME} %{VERSION}\n"])
                    .trim()
                    .to_owned()
            })
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                "mxos-demo-unit 1.0",
                "mxos-filesystem 1.0",
                "mxos-hello 1.0",
                "mxos-hello-data 1.0",
                "mxos-release 1.0",
                "mxos-shell 1.0",
                "mxos-test-kernel 1.0",
            ]
        );

        // Every package carries the demo key's signature.
        for rpm in &rpms {
            let sig = query(rpm, &["--nosignature", "--qf", "%{RSAHEADER:pgpsig}"]);
            assert!(
                sig.starts_with("RSA/SHA512, ") && sig.ends_with(", Key ID 8201986c88e453df"),
                "{}: {sig}",
                rpm.display()
            );
        }

        let shell = find(&rpms, "mxos-shell");
        assert!(
            shell.to_string_lossy().ends_with(".x86_64.rpm"),
            "{shell:?}"
        );
        let files = query(shell, &["-l"]);
        assert!(files.lines().any(|l| l == "/usr/bin/busybox"), "{files}");
        let provides = query(shell, &["--provides"]);
        assert!(
            provides.lines().any(|l| l.trim() == "/bin/sh"),
            "{provides}"
        );

        let hello = find(&rpms, "mxos-hello");
        let scripts = query(hello, &["--scripts"]);
        assert!(
            scripts.contains("echo \"post ran for mxos-hello\" > /usr/share/mxos-hello/post-ran"),
            "{scripts}"
        );
        let requires = query(hello, &["--requires"]);
        assert!(
            requires.lines().any(|l| l.trim() == "/bin/sh"),
            "{requires}"
        );
        // AutoReqProv: no must keep rpm from inventing dependencies on the file contents.
        assert!(!requires.contains("libc"), "{requires}");

        let fs_rpm = find(&rpms, "mxos-filesystem");
        let modes = query(fs_rpm, &["--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]"]);
        assert!(modes.lines().any(|l| l == "drwxrwxrwt /tmp"), "{modes}");
        assert!(
            modes.lines().any(|l| l == "---------- /etc/shadow"),
            "{modes}"
        );
        assert!(modes.lines().any(|l| l == "lrwxrwxrwx /bin"), "{modes}");
    }

    fn sha256_by_name(dir: &Path) -> BTreeMap<String, String> {
        rpms_in(dir)
            .iter()
            .map(|rpm| {
                let out = run(Command::new("sha256sum").arg(rpm)).unwrap();
                let sum = out.split_whitespace().next().unwrap().to_owned();
                (rpm.file_name().unwrap().to_string_lossy().into_owned(), sum)
            })
            .collect()
    }

    #[test]
    fn same_generation_builds_identical_rpms() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        build_demo_repo(a.path(), 2).unwrap();
        build_demo_repo(b.path(), 2).unwrap();
        let (sums_a, sums_b) = (sha256_by_name(a.path()), sha256_by_name(b.path()));
        assert_eq!(sums_a.len(), 7);
        assert_eq!(sums_a, sums_b);
    }

    #[test]
    fn shared_repo_is_built_once_and_reused() {
        let cache = tempfile::tempdir().unwrap();
        let repo = shared_demo_repo_in(cache.path(), 2).unwrap();
        let rpms = rpms_in(&repo);
        let hello = find(&rpms, "mxos-hello");
        assert_eq!(query(hello, &["--qf", "%{VERSION}"]), "1.1");
        let files = query(hello, &["-l"]);
        assert!(files.contains("/usr/share/mxos-hello/NEWS"), "{files}");

        let marker = repo.join("marker");
        fs::write(&marker, "").unwrap();
        assert_eq!(shared_demo_repo_in(cache.path(), 2).unwrap(), repo);
        assert!(
            marker.exists(),
            "a matching stamp must not trigger a rebuild"
        );

        fs::write(repo.join(STAMP_FILE), "stale\n").unwrap();
        shared_demo_repo_in(cache.path(), 2).unwrap();
        assert!(!marker.exists(), "a stale stamp must trigger a rebuild");
    }

    #[test]
    fn unknown_generation_is_an_error() {
        let out = tempfile::tempdir().unwrap();
        assert!(build_demo_repo(out.path(), 3).is_err());
    }
}
