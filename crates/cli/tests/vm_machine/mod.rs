//! How vm-test drives a machine: the step driver and its unit baked into the image as the
//! `vmtest` overlay, one qemu boot per step read back from the serial console as
//! `MXOS-VMTEST key=value` lines. The scenario itself (the steps, what they must show) is
//! in `vm.rs`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::workspace;

/// Runs on every boot: executes the step script the host wrote to the second disk and
/// powers off, so each boot is one step of the scenario.
const DRIVER: &str = r#"#!/bin/sh
exec > /dev/ttyS0 2>&1
echo "MXOS-VMTEST start"
tr -d '\000' < /dev/vdb > /run/mxos-vmtest-step.sh
sh /run/mxos-vmtest-step.sh
echo "MXOS-VMTEST end_rc=$?"
systemctl poweroff
"#;

const DRIVER_UNIT: &str = "[Unit]
Description=MxOS VM test step
After=multi-user.target network-online.target mxos-health.service
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/libexec/mxos-vmtest/driver

[Install]
WantedBy=multi-user.target
";

const COMMON: &str = r#"
say() { echo "MXOS-VMTEST $*"; }
booted() { ostree admin status | sed -n 's/^\* mxos \([0-9a-f]\{64\}\)\.[0-9]*.*/\1/p'; }
prefixed() { sed "s/^/MXOS-VMTEST $1: /"; }
"#;

pub struct Vm {
    pub disk: PathBuf,
    pub dir: PathBuf,
    /// UEFI with Secure Boot enforcing (OVMF, Microsoft's keys enrolled): this machine's
    /// own copy of the variable store. `None` boots SeaBIOS.
    pub uefi_vars: Option<PathBuf>,
    /// More qemu arguments: the installer's target disk, a firmware serial number.
    pub extra_args: Vec<String>,
}

/// Debian's OVMF: the firmware that only runs signed binaries once Secure Boot is on, and a
/// variable store with Microsoft's keys enrolled and Secure Boot on.
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";

/// A qcow2 overlay of `base`: every machine of the scenario starts from the one image
/// `mxos-compose disk` wrote, and writes only its own changes.
pub fn overlay(base: &Path, path: &Path) -> PathBuf {
    let st = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
        .arg(base)
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success(), "qemu-img create -b {}", base.display());
    path.to_owned()
}

impl Vm {
    /// Boots once with `step` on the command disk; returns the MXOS-VMTEST key=values and
    /// the time the boot took.
    pub fn boot(&self, n: u32, step: &str) -> (BTreeMap<String, String>, Duration, String) {
        let cmd_disk = self.dir.join(format!("step-{n}.img"));
        let mut script = format!("{COMMON}{step}").into_bytes();
        script.resize(1 << 20, 0);
        fs::write(&cmd_disk, script).unwrap();
        let log = self.dir.join(format!("console-{n}.log"));
        let start = Instant::now();
        let mut child = self.qemu(&log, &cmd_disk).spawn().unwrap();
        // A boot plus one step takes 20-60 s under TCG; a hang must fail, not block CI.
        let deadline = start + Duration::from_secs(300);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "qemu failed ({status})");
                break;
            }
            if Instant::now() > deadline {
                child.kill().ok();
                child.wait().ok();
                let text = fs::read_to_string(&log).unwrap_or_default();
                panic!(
                    "boot {n} did not power off within 300 s; console tail:\n{}",
                    tail(&text, 60)
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let took = start.elapsed();
        let text = String::from_utf8_lossy(&fs::read(&log).unwrap()).into_owned();
        let mut kv = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.trim_end_matches('\r').split("MXOS-VMTEST ").nth(1) {
                if let Some((k, v)) = rest.split_once('=') {
                    if !k.contains(' ') && !k.contains(':') {
                        kv.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
        }
        let ours: Vec<&str> = text.lines().filter(|l| l.contains("MXOS-VMTEST")).collect();
        assert!(
            kv.contains_key("end_rc"),
            "boot {n}: the test step did not finish (console: {}); its lines:\n{}\nconsole tail:\n{}",
            log.display(),
            ours.join("\n"),
            tail(&text, 30)
        );
        eprintln!("boot {n}: {:.1} s", took.as_secs_f64());
        (kv, took, text)
    }
}

impl Vm {
    /// Boots with an empty step and returns the console: for boots that end by themselves
    /// (a failed health check reboots, a broken kernel panics).
    pub fn boot_unattended(&self, n: u32) -> (String, Duration) {
        self.boot_until(n, None, 300)
    }

    /// Boots with an empty step until the machine powers off, `seconds` pass, or the console
    /// shows `cut` (then the power is cut, as a technician pulling the plug would).
    pub fn boot_until(&self, n: u32, cut: Option<&str>, seconds: u64) -> (String, Duration) {
        let cmd_disk = self.dir.join(format!("step-{n}.img"));
        let mut script = b"echo unattended\n".to_vec();
        script.resize(1 << 20, 0);
        fs::write(&cmd_disk, script).unwrap();
        let log = self.dir.join(format!("console-{n}.log"));
        let start = Instant::now();
        let mut child = self.qemu(&log, &cmd_disk).spawn().unwrap();
        let deadline = start + Duration::from_secs(seconds);
        while child.try_wait().unwrap().is_none() {
            let seen = cut.is_some_and(|c| {
                String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).contains(c)
            });
            if seen || Instant::now() > deadline {
                child.kill().ok();
                child.wait().ok();
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let took = start.elapsed();
        eprintln!("boot {n} (unattended): {:.1} s", took.as_secs_f64());
        (
            String::from_utf8_lossy(&fs::read(&log).unwrap_or_default()).into_owned(),
            took,
        )
    }

    fn qemu(&self, log: &Path, cmd_disk: &Path) -> Command {
        let mut c = Command::new("qemu-system-x86_64");
        match &self.uefi_vars {
            // Secure Boot needs SMM, which needs q35; the firmware's flash is write-protected
            // outside SMM, so a booted OS cannot turn Secure Boot off.
            Some(vars) => c
                .args(["-machine", "q35,smm=on,accel=tcg"])
                .args(["-global", "driver=cfi.pflash01,property=secure,value=on"])
                .arg("-drive")
                .arg(format!(
                    "if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}"
                ))
                .arg("-drive")
                .arg(format!(
                    "if=pflash,format=raw,unit=1,file={}",
                    vars.display()
                )),
            None => c.args(["-machine", "accel=tcg"]),
        };
        c.args(["-m", "1024", "-smp", "2", "-display", "none", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", log.display()))
            .arg("-drive")
            .arg(format!(
                "file={},if=virtio,format=qcow2",
                self.disk.display()
            ))
            .arg("-drive")
            .arg(format!("file={},if=virtio,format=raw", cmd_disk.display()))
            .args([
                "-netdev",
                "user,id=n0",
                "-device",
                "virtio-net-pci,netdev=n0",
            ])
            .args(&self.extra_args);
        c
    }
}

/// SELinux denials since boot, counted and listed (the kernel's printk rate limit is off,
/// `sysctl.kernel.printk_ratelimit=0`, so none is dropped on the way to the journal).
pub const AVC_REPORT: &str = r#"
say avc_denials=$(journalctl -k -b --no-pager -o cat | grep -c 'avc:  denied')
journalctl -k -b --no-pager -o cat | grep 'avc:  denied' | sed 's/.*avc:  denied *//; s/ pid=[0-9]*//; s/ ino=[0-9]*//' \
    | sort | uniq -c | sort -rn | head -60 | prefixed avc
"#;

/// What boot `n` reported of SELinux denials: empty when there were none.
pub fn avc_report(n: u32, k: &std::collections::BTreeMap<String, String>, text: &str) -> String {
    if k.get("avc_denials").map(String::as_str) == Some("0") {
        return String::new();
    }
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("MXOS-VMTEST avc: "))
        .collect();
    format!(
        "boot {n}: {} denials\n{}",
        k.get("avc_denials")
            .map(String::as_str)
            .unwrap_or("(not reported)"),
        listed.join("\n")
    )
}

pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The overlays of the workspace plus `vmtest`: the step driver and the serial console
/// setting, nothing of the product (that comes from its package).
pub fn overlays_with_vmtest(dir: &Path) -> PathBuf {
    let ov = dir.join("overlays");
    let status = Command::new("cp")
        .arg("-a")
        .arg(workspace().join("overlays"))
        .arg(&ov)
        .status()
        .unwrap();
    assert!(status.success());
    let root = ov.join("vmtest/root");
    for d in [
        "usr/lib/systemd/journald.conf.d",
        "usr/libexec/mxos-vmtest",
        "usr/lib/systemd/system",
        "etc/systemd/system/multi-user.target.wants",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(
        ov.join("vmtest/overlay.yaml"),
        "description: MxOS VM test driver (tests only)\n",
    )
    .unwrap();
    fs::write(root.join("usr/libexec/mxos-vmtest/driver"), DRIVER).unwrap();
    // The journal of the previous boot tells what happened at its shutdown (ostree's
    // finalization of the staged deployment runs there).
    fs::write(
        root.join("usr/lib/systemd/journald.conf.d/50-mxos-vmtest.conf"),
        "[Journal]\nStorage=persistent\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        root.join("usr/libexec/mxos-vmtest/driver"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(
        root.join("usr/lib/systemd/system/mxos-vmtest.service"),
        DRIVER_UNIT,
    )
    .unwrap();
    // `units:` enables what packages install; an overlay enables its own units.
    std::os::unix::fs::symlink(
        "/usr/lib/systemd/system/mxos-vmtest.service",
        root.join("etc/systemd/system/multi-user.target.wants/mxos-vmtest.service"),
    )
    .unwrap();
    // A login prompt on ttyS0 would swallow the console output the test reads.
    std::os::unix::fs::symlink(
        "/dev/null",
        root.join("etc/systemd/system/serial-getty@ttyS0.service"),
    )
    .unwrap();
    ov
}
