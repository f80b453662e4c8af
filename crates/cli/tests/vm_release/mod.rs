//! What vm-test's machines install: this build's agent packaged as a .deb in an apt
//! repository, the test OS's treefile generations, and releases that break on purpose.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use crate::REF;

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// This build's `mxos-update` as its .deb (crates/dist, as `cargo xtask dist` makes it) in
/// a flat apt repository: the image gets the agent the way a distribution would.
pub fn package_repo(dir: &Path) -> PathBuf {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mxos-update"))
        .parent()
        .unwrap();
    let debs = mxos_dist::build_debs(&mxos_dist::DistRequest {
        workspace: workspace(),
        bin_dir: bin_dir.to_owned(),
        out_dir: dir.join("dist"),
        version: env!("CARGO_PKG_VERSION").into(),
    })
    .unwrap();
    let repo = dir.join("apt-repo");
    fs::create_dir_all(&repo).unwrap();
    let deb = debs
        .iter()
        .find(|d| {
            d.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("mxos-update_")
        })
        .unwrap();
    fs::copy(deb, repo.join(deb.file_name().unwrap())).unwrap();
    let out = Command::new("dpkg-scanpackages")
        .args(["--multiversion", "."])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg-scanpackages: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(repo.join("Packages"), &out.stdout).unwrap();
    repo
}

/// A bad release made from `base`'s tree plus `files`, committed on `REF` with the stock
/// ostree CLI, signed and published: what a broken update looks like to devices.
pub fn bad_release(
    t: &Path,
    base: &str,
    name: &str,
    files: &[(&str, &[u8], u32)],
    key: &str,
    url: &str,
) -> String {
    let extra = t.join(format!("extra-{name}"));
    for (path, contents, mode) in files {
        let p = extra.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, contents).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).unwrap();
    }
    let build = t.join("build");
    let out = ostree(&[
        "--repo",
        &s(&build),
        "commit",
        &format!("--branch={REF}"),
        &format!("--tree=ref={base}"),
        &format!("--tree=dir={}", extra.display()),
        // The added files and the directories above them get the base's policy labels,
        // as a compose would give them; unlabelled, an enforcing machine could not use them.
        "--selinux-policy-from-base",
        &format!("--add-metadata-string=version=10.{name}"),
        "--add-metadata=ostree.bootable=true",
        &format!("--subject=MxOS {name} (test)"),
    ]);
    let commit = out.trim().to_owned();
    compose(&["sign", "--repo", &s(&build), &commit, "--key", key]);
    compose(&[
        "publish",
        "--repo",
        &s(&build),
        "--to",
        &s(&t.join("public")),
        "--sign-key",
        key,
        "--url",
        url,
    ]);
    commit
}

/// The test OS plus the packaged agent from `repo`. `documentation: true` because the
/// image must answer `man mxos-update`: like rpm-ostree's, `documentation: false` drops
/// every package's manual pages, ours included.
pub fn vm_treefile(dir: &Path, generation: u32, repo: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("mxos-vm-test-{generation}.yaml"));
    fs::write(
        &path,
        format!(
            "include: {}\noverlays: [vmtest]\napt-sources:\n  - deb [trusted=yes] file://{} ./\n\
             packages: [mxos-update, man-db, bash-completion]\ndocumentation: true\n\
             postprocess:\n  - echo v{generation} > /usr/share/mxos-vmtest-generation\n",
            workspace().join("treefiles/mxos-vm.yaml").display(),
            repo.display()
        ),
    )
    .unwrap();
    path
}
