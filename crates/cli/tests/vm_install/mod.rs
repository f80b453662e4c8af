//! vm-test's lab: one USB stick (`mxos-compose installer`) installs MxOS on machines it boots.
//! A BIOS machine loses power during the copy and is left with a disk that cannot boot; the
//! same machine under OVMF with Secure Boot boots the stick again, which starts over and
//! finishes; the installed disk boots alone, Secure Boot on, with the stick's commit, channel
//! and host name, and reaches the published repo; a machine whose only disk holds a
//! filesystem is left untouched, and the screen says why.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::vm_machine::{self, tail, Vm};

pub const CHANNEL: &str = "laboratorio";
const SERIAL: &str = "MX0042";

/// The installed machine's first boot.
const STEP_INSTALLED: &str = r#"
say booted=$(booted)
# The kernel's name for the machine (hostname(1) runs confined and may not write to the console).
say hostname=$(cat /proc/sys/kernel/hostname)
say channel=$(sed -n 's/^channel = //p' /etc/mxos/update.d/50-installer.toml | tr -d '"')
say reboot=$(sed -n 's/^reboot = //p' /etc/mxos/update.d/50-installer.toml | tr -d '"')
say installer_unit=$(test -e /etc/systemd/system/mxos-install.service && echo present || echo absent)
say enforce=$(getenforce)
out=$(mxos-update check 2>&1); rc=$?
echo "$out" | prefixed check
say check_rc=$rc
"#;

/// A machine the installer refused: what systemd says of the unit.
const STEP_REFUSED: &str = r#"
say install_result=$(systemctl show -p Result --value mxos-install.service)
"#;

pub struct Figures {
    pub stick_mib: u64,
    pub stick_build: Duration,
    pub install: Duration,
    pub installed_boot: Duration,
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

fn qemu_img(args: &[&str]) {
    let st = Command::new("qemu-img").args(args).status().unwrap();
    assert!(st.success(), "qemu-img {args:?}");
}

fn disk_arg(path: &Path, format: &str) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("file={},if=virtio,format={format}", path.display()),
    ]
}

fn uefi_vars(t: &Path, name: &str) -> PathBuf {
    let vars = t.join(name);
    fs::copy(vm_machine::OVMF_VARS, &vars).unwrap();
    vars
}

/// Runs the lab scenario; `uefi_facts` is vm.rs's step snippet, `kargs` the kernel arguments
/// the disk image got.
#[allow(clippy::too_many_arguments)]
pub fn lab(
    t: &Path,
    logs: &Path,
    build: &Path,
    public: &Path,
    key: &str,
    reference: &str,
    commit: &str,
    kargs: &[&str],
    uefi_facts: &str,
) -> (Figures, String) {
    compose(&[
        "fleet",
        "promote",
        CHANNEL,
        "--to",
        commit,
        "--ref",
        reference,
        "--public",
        &s(public),
        "--sign-key",
        key,
    ]);
    let usb = t.join("usb.qcow2");
    let start = Instant::now();
    let mut args = vec![
        "installer",
        "--ref",
        reference,
        "--commit",
        commit,
        "--repo",
        build.to_str().unwrap(),
        "--channel",
        CHANNEL,
        "--reboot",
        "never",
        "--hostname-pattern",
        "lab3-{serial}",
        "--size-mib",
        "3072",
        "--to",
        usb.to_str().unwrap(),
    ];
    let conf = s(&public.join("mxos.conf"));
    args.extend(["--remote-conf", &conf]);
    for k in kargs {
        args.extend(["--karg", k]);
    }
    let out = compose(&args);
    let stick_build = start.elapsed();
    assert!(
        out.starts_with(&format!("wrote {} (", usb.display())) && out.contains(commit),
        "{out}"
    );
    let stick_mib = fs::metadata(&usb).unwrap().len() >> 20;

    let target = t.join("lab-disk.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", &s(&target), "4G"]);
    let mut machine_args = disk_arg(&target, "qcow2");
    machine_args.extend(["-smbios".into(), format!("type=1,serial={SERIAL}")]);

    // Power lost during the copy: the disk holds a partition table and part of a root, but
    // no boot code, and its root is still named as unfinished.
    let bios = Vm {
        disk: vm_machine::overlay(&usb, &t.join("stick-bios.qcow2")),
        dir: logs.to_owned(),
        uefi_vars: None,
        extra_args: machine_args.clone(),
    };
    let (text, _) = bios.boot_until(41, Some("[5/8]"), 600);
    assert!(
        text.contains("[1/8] Verificando la firma")
            && text.contains("[2/8] Eligiendo el disco")
            && text.contains("Se instalará en /dev/vdc (4.3 GB)")
            && text.contains("[5/8] Copiando el sistema"),
        "the BIOS machine boots the stick and starts copying: {}",
        tail(&text, 40)
    );
    let cut = t.join("lab-disk-cut.raw");
    qemu_img(&["convert", "-O", "raw", &s(&target), &s(&cut)]);
    let table = Command::new("sgdisk").arg("-p").arg(&cut).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.contains("8300  mxos-incomplete"), "{table}");
    let mbr = fs::read(&cut).unwrap();
    assert!(
        mbr[..440].iter().all(|b| *b == 0),
        "no boot code before the install finished"
    );
    drop(mbr);
    fs::remove_file(&cut).unwrap();

    // The same machine, now under OVMF with Secure Boot, boots the stick again.
    let uefi = Vm {
        disk: vm_machine::overlay(&usb, &t.join("stick-uefi.qcow2")),
        dir: logs.to_owned(),
        uefi_vars: Some(uefi_vars(t, "lab-vars.fd")),
        extra_args: machine_args,
    };
    let start = Instant::now();
    let (text, _) = uefi.boot_until(42, None, 900);
    let install = start.elapsed();
    // The installer runs enforcing too; the kernel prints its denials on the console.
    let install_denials: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("avc:  denied"))
        .collect();
    assert!(
        text.contains("/dev/vdc tiene una instalación de MxOS que no terminó")
            && text.contains("[8/8] Instalando el arranque")
            && text.contains("quedó instalado en /dev/vdc (4.3 GB) con el nombre «lab3-mx0042»"),
        "the stick starts over and installs: {}",
        tail(&text, 40)
    );

    // The installed disk alone, Secure Boot on.
    let installed = Vm {
        disk: target.clone(),
        dir: logs.to_owned(),
        uefi_vars: Some(uefi_vars(t, "lab-installed-vars.fd")),
        extra_args: vec!["-smbios".into(), format!("type=1,serial={SERIAL}")],
    };
    let (k, installed_boot, text) = installed.boot(
        43,
        &format!("{uefi_facts}{STEP_INSTALLED}{}", vm_machine::AVC_REPORT),
    );
    assert_eq!(
        (k["efi"].as_str(), k["secure_boot"].as_str()),
        ("yes", "1"),
        "the installed machine boots with Secure Boot on: {}",
        tail(&text, 40)
    );
    assert_eq!(k["booted"], commit, "{}", tail(&text, 40));
    assert_eq!(k["hostname"], "lab3-mx0042");
    assert_eq!(
        (k["channel"].as_str(), k["reboot"].as_str()),
        (CHANNEL, "never")
    );
    assert_eq!(
        k["installer_unit"], "absent",
        "the installer stays on the stick"
    );
    assert_eq!(k["enforce"], "Enforcing");
    assert_eq!(
        k["check_rc"],
        "77",
        "check reaches the published repo; the channel offers what runs: {}",
        tail(&text, 40)
    );
    assert!(
        text.contains("MXOS-VMTEST check: El sistema está al día"),
        "{}",
        tail(&text, 40)
    );
    let denials = vm_machine::avc_report(43, &k, &text);
    let denials = if install_denials.is_empty() {
        denials
    } else {
        format!(
            "{denials}\nboot 42 (the installer): {}",
            install_denials.join("\n")
        )
    };

    // A machine whose only disk holds a filesystem, and a stick without --wipe.
    let data = t.join("data-disk.raw");
    fs::write(&data, b"").unwrap();
    let f = fs::OpenOptions::new().write(true).open(&data).unwrap();
    // As large as the machine's disk above: it is refused for its data, not its size.
    f.set_len(4 << 30).unwrap();
    drop(f);
    let st = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "datos-escuela"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(st.success());
    let before = sha256_of(&data);
    let refused = Vm {
        disk: vm_machine::overlay(&usb, &t.join("stick-refused.qcow2")),
        dir: logs.to_owned(),
        uefi_vars: None,
        extra_args: disk_arg(&data, "raw"),
    };
    let (k, _, text) = refused.boot(44, STEP_REFUSED);
    assert!(
        text.contains("NO SE INSTALÓ MXOS.")
            && text.contains("error: no se escribió nada en ningún disco")
            && text.contains("el disco /dev/vdc (4.3 GB) tiene datos (vdc: ext4)")
            && text.contains("mxos-compose installer --wipe"),
        "the screen says why nothing was installed: {}",
        tail(&text, 40)
    );
    assert_eq!(k["install_result"], "exit-code");
    assert_eq!(sha256_of(&data), before, "the data disk is untouched");
    fs::remove_file(&data).ok();

    (
        Figures {
            stick_mib,
            stick_build,
            install,
            installed_boot,
        },
        denials,
    )
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split(' ')
        .next()
        .unwrap()
        .to_owned()
}
