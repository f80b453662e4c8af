//! The tools as packages of the distribution: `mxos-update` (the machines) and
//! `mxos-compose` (the maintainers), each an RPM built with rpmbuild from `dist/mxos-tools.spec`
//! and a .deb of the same content built with dpkg-deb. What goes where is one table
//! ([`layout`]); the packages are made from a staged copy of it, binaries stripped.

mod layout;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use mxos_process::run;

pub use layout::{layout, layout_with, Item, Package, Source, PACKAGES};

pub struct DistRequest {
    /// The workspace (for `dist/`, `systemd-units/`, `docs/`).
    pub workspace: PathBuf,
    /// Where `mxos-update` and `mxos-compose` were built.
    pub bin_dir: PathBuf,
    /// Where the packages go (created; what it held is replaced).
    pub out_dir: PathBuf,
    pub version: String,
}

#[derive(Debug)]
pub struct DistReport {
    pub rpms: Vec<PathBuf>,
    pub debs: Vec<PathBuf>,
}

pub fn build(req: &DistRequest) -> Result<DistReport> {
    let stage = stage_all(req)?;
    let rpms = rpmbuild(req, &stage).context("building the RPMs")?;
    let debs = build_debs_from(req, &stage)?;
    Ok(DistReport { rpms, debs })
}

/// Only the RPMs, sorted by file name: for RPM trees that install the tools from a repo (the
/// dnf demo tree), which have no use for dpkg-deb's time.
pub fn build_rpms(req: &DistRequest) -> Result<Vec<PathBuf>> {
    let stage = stage_all(req)?;
    rpmbuild(req, &stage).context("building the RPMs")
}

/// Only the .debs, in [`PACKAGES`] order: for Debian-based images (the VM test installs
/// `mxos-update` from one), which have no use for rpmbuild's time.
pub fn build_debs(req: &DistRequest) -> Result<Vec<PathBuf>> {
    let stage = stage_all(req)?;
    build_debs_from(req, &stage)
}

fn stage_all(req: &DistRequest) -> Result<PathBuf> {
    let stage = req.out_dir.join("stage");
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("clearing {}", stage.display()))?;
    }
    for p in PACKAGES {
        stage_package(req, *p, &stage.join(p.name()))
            .with_context(|| format!("staging {}", p.name()))?;
    }
    Ok(stage)
}

fn build_debs_from(req: &DistRequest, stage: &Path) -> Result<Vec<PathBuf>> {
    PACKAGES
        .iter()
        .map(|p| deb(req, *p, stage).with_context(|| format!("building {}.deb", p.name())))
        .collect()
}

fn stage_package(req: &DistRequest, package: Package, root: &Path) -> Result<()> {
    for item in layout(package, &req.workspace) {
        let dest = root.join(item.dest.trim_start_matches('/'));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        match &item.source {
            Source::Binary(name) => {
                let src = req.bin_dir.join(name);
                fs::copy(&src, &dest).with_context(|| format!("copying {}", src.display()))?;
                run(Command::new("strip").arg("--strip-unneeded").arg(&dest))?;
            }
            Source::File(rel) => {
                let src = req.workspace.join(rel);
                fs::copy(&src, &dest).with_context(|| format!("copying {}", src.display()))?;
            }
            Source::ManPage(rel) => {
                let src = req.workspace.join(rel);
                let bytes = fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
                let plain = dest.with_extension("");
                fs::write(&plain, bytes)?;
                // -n: no name or time in the header, so the package is reproducible.
                run(Command::new("gzip").args(["-n", "-9", "-f"]).arg(&plain))?;
            }
        }
        fs::set_permissions(&dest, fs::Permissions::from_mode(item.mode))?;
    }
    Ok(())
}

fn rpmbuild(req: &DistRequest, stage: &Path) -> Result<Vec<PathBuf>> {
    let top = req.out_dir.join("rpmbuild");
    if top.exists() {
        fs::remove_dir_all(&top)?;
    }
    let spec = req.workspace.join("dist/mxos-tools.spec");
    let mut cmd = Command::new("rpmbuild");
    cmd.arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("--define")
        .arg(format!("mxos_stage {}", stage.display()))
        .arg("--define")
        .arg(format!("mxos_version {}", req.version))
        .arg(&spec);
    run(&mut cmd)?;
    let arch_dir = top.join("RPMS/x86_64");
    let mut rpms = Vec::new();
    for e in fs::read_dir(&arch_dir).with_context(|| format!("listing {}", arch_dir.display()))? {
        let path = e?.path();
        let dest = req.out_dir.join(path.file_name().unwrap_or_default());
        fs::rename(&path, &dest)?;
        rpms.push(dest);
    }
    rpms.sort();
    if rpms.len() != PACKAGES.len() {
        bail!(
            "rpmbuild made {} packages, expected {}",
            rpms.len(),
            PACKAGES.len()
        );
    }
    Ok(rpms)
}

fn deb(req: &DistRequest, package: Package, stage: &Path) -> Result<PathBuf> {
    let name = package.name();
    let root = req.out_dir.join("deb").join(name);
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    fs::create_dir_all(root.join("DEBIAN"))?;
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", stage.join(name).display()))
        .arg(&root))?;
    let control = fs::read_to_string(req.workspace.join(format!("dist/debian/{name}.control")))?
        .replace("@VERSION@", &req.version)
        .replace(
            "@DEPENDS@",
            &shlib_depends(
                &root.join("usr/bin").join(name),
                &req.out_dir.join("shlibdeps"),
            )?,
        );
    fs::write(root.join("DEBIAN/control"), control)?;
    let postinst = req.workspace.join(format!("dist/debian/{name}.postinst"));
    if postinst.exists() {
        fs::copy(&postinst, root.join("DEBIAN/postinst"))?;
        fs::set_permissions(
            root.join("DEBIAN/postinst"),
            fs::Permissions::from_mode(0o755),
        )?;
    }
    let out = req
        .out_dir
        .join(format!("{name}_{}_amd64.deb", req.version));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&root)
        .arg(&out))?;
    Ok(out)
}

/// The Debian packages of the shared libraries a binary links, as dpkg-shlibdeps finds
/// them (it wants a source package around it: `dir` is one made for the purpose).
fn shlib_depends(binary: &Path, dir: &Path) -> Result<String> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir.join("debian"))?;
    fs::write(
        dir.join("debian/control"),
        "Source: mxos\n\nPackage: mxos\nArchitecture: any\n",
    )?;
    let out = run(Command::new("dpkg-shlibdeps")
        .args(["-O", "-e"])
        .arg(binary)
        .current_dir(dir))?;
    fs::remove_dir_all(dir).ok();
    let text = String::from_utf8_lossy(&out.stdout);
    let deps = text
        .lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .context("dpkg-shlibdeps printed no shlibs:Depends")?;
    Ok(deps.trim().to_owned())
}
