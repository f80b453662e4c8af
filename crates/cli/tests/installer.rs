//! `mxos-compose installer` at the maintainer's desk: what the stick carries for the machines
//! (vm-test boots it and installs a machine), and what is refused before any image is
//! written.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const REF: &str = "mxos/10/x86_64/lab";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// Where the tree's programs sit, stand-in bytes: the stick only checks they are there.
const TOOLS: [&str; 5] = [
    "usr/bin/mxos-update",
    "usr/sbin/sgdisk",
    "usr/sbin/mkfs.ext4",
    "usr/sbin/wipefs",
    "usr/bin/lsblk",
];

/// A bootable UEFI-and-BIOS commit on `REF` with the installer's tools but for `missing`.
fn lab_commit(build: &Path, version: &str, missing: Option<&str>) -> String {
    let generator =
        fs::read(workspace().join("overlays/mx-boot/root/usr/libexec/mxos/grub-bls-gen")).unwrap();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("usr/libexec/mxos/grub-bls-gen", &generator),
        (
            "usr/lib/shim/shimx64.efi.signed",
            b"shim signed by Microsoft",
        ),
        (
            "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
            b"GRUB signed by Debian",
        ),
    ];
    for tool in TOOLS {
        if Some(tool) != missing {
            files.push((tool, b"#!/bin/sh\n"));
        }
    }
    tiny_os_commit_with(build, REF, version, "2026-11-01T00:00:00Z", &files)
}

/// [`lab_commit`] signed and published: (build repo, mxos.conf, commit, secret key).
fn lab_tree(t: &Path, missing: Option<&str>) -> (PathBuf, PathBuf, String, PathBuf) {
    fs::create_dir_all(t).unwrap();
    let build = t.join("build");
    let commit = lab_commit(&build, "10.1", missing);
    compose(&["keygen", &s(&t.join("k"))]);
    let key = t.join("k.secret");
    compose(&["sign", "--repo", &s(&build), REF, "--key", &s(&key)]);
    publish(
        &build,
        &t.join("public"),
        &key,
        "http://mirror.escuela.invalid/mxos",
        &[],
    );
    (build, t.join("public/mxos.conf"), commit, key)
}

fn installer_args<'a>(build: &'a str, conf: &'a str, img: &'a str) -> Vec<&'a str> {
    vec![
        "installer",
        "--ref",
        REF,
        "--repo",
        build,
        "--remote-conf",
        conf,
        "--to",
        img,
        "--size-mib",
        "700",
    ]
}

struct Umount(PathBuf);

impl Drop for Umount {
    fn drop(&mut self) {
        Command::new("umount").arg(&self.0).status().ok();
    }
}

#[test]
fn the_stick_carries_the_commit_the_machines_settings_and_their_boot_code() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, conf, commit, _) = lab_tree(t, None);
    let img = t.join("usb.img");
    let (b, c, i) = (s(&build), s(&conf), s(&img));
    let mut args = installer_args(&b, &c, &i);
    args.extend([
        "--channel",
        "escuelas/estable",
        "--reboot",
        "window",
        "--hostname-pattern",
        "lab3-{serial}",
        "--karg",
        "quiet",
        "--language",
        "en",
    ]);
    let out = compose(&args);
    assert!(
        out.starts_with(&format!("wrote {i} (")) && out.contains(&commit),
        "{out}"
    );
    let table = Command::new("sgdisk").arg("-p").arg(&img).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    // Complete: the root got its final name.
    assert!(table.contains("8300  root\n"), "{table}");

    // The root starts after the 1 MiB gap, BIOS boot (1 MiB) and the ESP (64 MiB).
    let root_offset = 66u64 << 20;
    let label = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "LABEL", "-O"])
        .arg(root_offset.to_string())
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&label.stdout), "mxos-installer\n");
    let mnt = t.join("mnt");
    fs::create_dir_all(&mnt).unwrap();
    let st = Command::new("mount")
        .arg("-o")
        .arg(format!("loop,ro,offset={root_offset}"))
        .arg(&img)
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(st.success());
    let _umount = Umount(mnt.clone());

    let payload = mnt.join("mxos-installer");
    let cfg = fs::read_to_string(payload.join("installer.toml")).unwrap();
    assert_eq!(
        cfg,
        format!(
            "# Written by `mxos-compose installer`: what this stick installs, and where.\n\
             commit = \"{commit}\"\nfollow-ref = \"{REF}\"\nkargs = [\"quiet\"]\n\
             target-disk = \"auto\"\nwipe = false\nhostname-pattern = \"lab3-{{serial}}\"\n\
             firmware = \"both\"\nesp-mib = 64\nbios-boot-mib = 1\n"
        )
    );
    assert_eq!(
        fs::read_to_string(payload.join("mxos.conf")).unwrap(),
        fs::read_to_string(&conf).unwrap()
    );
    assert_eq!(
        fs::read_to_string(payload.join("update.toml")).unwrap(),
        "# Written by the MxOS installer: the school's update settings.\n[updates]\n\
         channel = \"escuelas/estable\"\nreboot = \"window\"\n"
    );
    // The machines' ESP finds their root, not the stick's.
    let esp = payload.join("boot/esp.img");
    assert_eq!(fs::metadata(&esp).unwrap().len(), 64 << 20);
    let grub_cfg = Command::new("mtype")
        .arg("-i")
        .arg(&esp)
        .arg("::EFI/BOOT/grub.cfg")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&grub_cfg.stdout)
            .contains("search --no-floppy --label mxos-root --set=root\n"),
        "{}",
        String::from_utf8_lossy(&grub_cfg.stderr)
    );
    assert_eq!(
        fs::metadata(payload.join("boot/mbr-code.bin"))
            .unwrap()
            .len(),
        440
    );

    // The stick's own /etc runs the installer and never updates the stick.
    let etc = mnt.join(format!("ostree/deploy/mxos/deploy/{commit}.0/etc"));
    let unit = fs::read_to_string(etc.join("systemd/system/mxos-install.service")).unwrap();
    assert!(unit.contains("\nEnvironment=LANG=en_US.UTF-8\n"), "{unit}");
    assert_eq!(
        fs::read_link(etc.join("systemd/system/multi-user.target.wants/mxos-install.service"))
            .unwrap(),
        Path::new("/etc/systemd/system/mxos-install.service")
    );
    assert_eq!(
        fs::read_link(etc.join("systemd/system/mxos-update.timer")).unwrap(),
        Path::new("/dev/null")
    );
    let entries: Vec<String> = fs::read_dir(mnt.join("boot/loader/entries"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        entries[0].contains("root=LABEL=mxos-installer rw quiet"),
        "{entries:?}"
    );
    // The commit itself does not carry the installer: the machines never get it.
    let out = Command::new("ostree")
        .args(["--repo", &s(&build), "ls", &commit, "/usr/etc/systemd"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("mxos-install"));
}

#[test]
fn what_the_machines_would_refuse_is_refused_at_the_desk_and_no_image_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();

    let (build, conf, commit, _) = lab_tree(&t.join("no-sgdisk"), Some("usr/sbin/sgdisk"));
    let img = t.join("usb.img");
    let (b, c, i) = (s(&build), s(&conf), s(&img));
    assert_eq!(
        compose_fails(&installer_args(&b, &c, &i)),
        format!("error: commit {commit} has no sgdisk, which the installer runs on each machine; add gdisk to the treefile's packages\n")
    );
    assert!(!img.exists());

    // Signed by a key the published config does not trust.
    let (build, _, commit, _) = lab_tree(&t.join("signed"), None);
    let (_, other_conf, _, _) = lab_tree(&t.join("other"), None);
    let (b, c) = (s(&build), s(&other_conf));
    let err = compose_fails(&installer_args(&b, &c, &i));
    assert_eq!(
        err,
        format!(
            "error: the machines would refuse this commit: it is not signed by a key of {c}\n  \
             caused by: commit {commit} refused\n  \
             caused by: none of its 1 ed25519 signature(s) was made by a trusted key (wrong key, or the content was altered after signing)\n"
        )
    );
    assert!(!img.exists());

    let (build, conf, _, _) = lab_tree(&t.join("good"), None);
    let (b, c) = (s(&build), s(&conf));
    let mut args = installer_args(&b, &c, &i);
    args.extend(["--hostname-pattern", "lab3-{serie}"]);
    assert_eq!(
        compose_fails(&args),
        "error: --hostname-pattern: the host name pattern `lab3-{serie}` names `{serie}`; accepted: {serial}, {mac}\n"
    );
    let mut args = installer_args(&b, &c, &i);
    args.extend(["--target-disk", "sda"]);
    assert_eq!(
        compose_fails(&args),
        "error: --target-disk sda: accepted: auto, or a device path such as /dev/sda or /dev/nvme0n1\n"
    );
    assert!(!img.exists());
}

/// The stick's payload as `mxos-compose installer` lays it out, for `commit` of `build`.
fn payload(t: &Path, conf: &Path, commit: &str, extra: &str) -> PathBuf {
    let dir = t.join("mxos-installer");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(conf, dir.join("mxos.conf")).unwrap();
    fs::write(
        dir.join("installer.toml"),
        format!(
            "commit = \"{commit}\"\nfollow-ref = \"{REF}\"\ntarget-disk = \"auto\"\nwipe = false\n\
             firmware = \"both\"\nesp-mib = 64\nbios-boot-mib = 1\n{extra}"
        ),
    )
    .unwrap();
    dir
}

/// The machine side: nothing is chosen, let alone written, before the stick's commit
/// verifies and its settings parse; each refusal says so in the technician's words.
#[test]
fn the_installer_checks_the_stick_before_it_touches_a_disk() {
    use mxos_agent::i18n::Lang;
    use mxos_media::install::{hostname::MachineFacts, install, InstallRequest, Unwritten};

    // What the stick's screen says: es-MX, as its unit's LANG sets it by default.
    mxos_agent::i18n::set_process_lang(Lang::Es);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, _, commit, _) = lab_tree(&t.join("ours"), None);
    // The stick's config trusts another key than the one that signed the commit.
    let (_, other_conf, _, _) = lab_tree(&t.join("other"), None);
    let dir = payload(&t.join("stick"), &other_conf, &commit, "");
    let work = t.join("work");
    let req = InstallRequest {
        payload: &dir,
        source_repo: &build,
        boot_disk: None,
        // A disk that does not exist: reaching it would fail differently.
        disks: vec![mxos_media::install::disks::DiskInfo {
            name: "nonexistent-disk".into(),
            size_bytes: 64 << 30,
            removable: false,
            read_only: false,
            model: None,
        }],
        root_bytes_needed: 0,
        facts: MachineFacts::default(),
        work: &work,
    };
    let mut said = Vec::new();
    let err = install(&req, &mut |t| said.push(t.render(Lang::Es))).unwrap_err();
    assert!(err.downcast_ref::<Unwritten>().is_some(), "{err:#}");
    let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    assert_eq!(chain[0], "no se escribió nada en ningún disco");
    assert!(
        chain.contains(&format!(
            "la versión {commit} de esta memoria no está firmada con una llave de confianza; no se instalará"
        )),
        "{chain:#?}"
    );
    assert_eq!(
        said,
        ["[1/8] Verificando la firma de la versión que trae la memoria…"]
    );

    // A setting the installer does not know is refused with the file that has it.
    let dir = payload(&t.join("typo"), &other_conf, &commit, "wype = true\n");
    let req = InstallRequest {
        payload: &dir,
        ..req
    };
    let err = install(&req, &mut |_| {}).unwrap_err();
    let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    assert_eq!(chain[0], "no se escribió nada en ningún disco");
    assert!(
        chain[1].starts_with(&format!(
            "{}: unknown field `wype`, expected one of `commit`, `follow-ref`",
            dir.join("installer.toml").display()
        )),
        "{chain:#?}"
    );
}

/// A remote with `gpg-verify=true`: its machines also require a GPG signature, so the stick
/// does too, at the desk and on the machine.
#[test]
fn a_remote_that_requires_gpg_needs_a_gpg_signed_commit_on_the_stick() {
    use mxos_agent::i18n::Lang;
    use mxos_media::install::{hostname::MachineFacts, install, InstallRequest, Unwritten};

    // The same language as the other test of the machine side: it is the process's.
    mxos_agent::i18n::set_process_lang(Lang::Es);
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, _, _, key) = lab_tree(&t.join("tree"), None);
    let gpg = common::gpg::GpgHome::new("mxos");
    let gpg_args = [
        "--gpg-sign",
        gpg.fingerprint.as_str(),
        "--gpg-homedir",
        gpg.path().to_str().unwrap(),
    ];
    let public = t.join("public-gpg");
    publish(
        &build,
        &public,
        &key,
        "http://mirror.escuela.invalid/mxos",
        &gpg_args,
    );
    let conf = public.join("mxos.conf");
    assert!(fs::read_to_string(&conf)
        .unwrap()
        .contains("gpg-verify=true"));
    // A later commit signed with ed25519 only (publish GPG-signed the heads it published).
    let commit = lab_commit(&build, "10.2", None);
    let k = s(&key);
    compose(&["sign", "--repo", &s(&build), REF, "--key", &k]);
    let img = t.join("usb.img");
    let (b, c, i) = (s(&build), s(&conf), s(&img));
    assert_eq!(
        compose_fails(&installer_args(&b, &c, &i)),
        format!("error: the machines would refuse this commit: {c} requires GPG (gpg-verify=true) and the commit has no GPG signature by its key mxos.gpg; sign it with `mxos-compose sign --gpg-key-id`\n")
    );
    assert!(!img.exists());

    // The machine side checks the same before it chooses a disk.
    let dir = payload(&t.join("stick"), &conf, &commit, "");
    fs::copy(public.join("mxos.gpg"), dir.join("mxos.gpg")).unwrap();
    let work = t.join("work");
    let req = InstallRequest {
        payload: &dir,
        source_repo: &build,
        boot_disk: None,
        disks: Vec::new(),
        root_bytes_needed: 0,
        facts: MachineFacts::default(),
        work: &work,
    };
    let err = install(&req, &mut |_| {}).unwrap_err();
    assert!(err.downcast_ref::<Unwritten>().is_some(), "{err:#}");
    let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    assert_eq!(
        chain,
        [
            "no se escribió nada en ningún disco".to_owned(),
            format!("el servidor de esta memoria exige firmas GPG (gpg-verify=true) y la versión {commit} no tiene una de su llave; no se instalará")
        ]
    );

    // Signed with GPG too, the commit makes a stick that carries the key for the machines.
    let mut sign = vec!["sign", "--repo", &b, REF, "--key", &k];
    sign.extend([
        "--gpg-key-id",
        gpg.fingerprint.as_str(),
        "--gpg-homedir",
        gpg_args[3],
    ]);
    compose(&sign);
    let out = compose(&installer_args(&b, &c, &i));
    assert!(out.starts_with(&format!("wrote {i} (")), "{out}");
}
