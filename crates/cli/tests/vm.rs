//! A composed commit boots: the apt-built MxOS test OS, with `mxos-update` installed from
//! this build's .deb through a local apt repository (`apt-sources`), is composed, written
//! to a disk image, and booted in qemu from its own GRUB; inside, the packaged agent (its
//! man page, bash completion and journal lines checked too) upgrades to v2 served by nginx
//! on the host, the machine reboots into v2 keeping v1 and the user's /etc change, rolls
//! back, and boots v1 again; a release whose health check fails and one that cannot boot
//! come back to v1 by themselves. A second machine from the same image boots UEFI with
//! Secure Boot enforcing (OVMF with Microsoft's keys: the tree's shim, Debian's GRUB and
//! kernel) and goes through upgrade, rollback and the boot-counting fallback too. Both run
//! SELinux enforcing, and the boots that report it show no AVC denial at all. Every step is
//! read from the serial console.
//!
//! Slow (two Debian composes, about twenty TCG boots): run by `cargo xtask vm-test`, which
//! `cargo xtask test` runs after the rest of the suite.

mod common;
mod vm_install;
mod vm_machine;
mod vm_release;

use std::fs;
use std::path::Path;
use std::time::Instant;

use common::*;
use vm_machine::{avc_report, overlays_with_vmtest, tail, Vm, AVC_REPORT};
use vm_release::{bad_release, package_repo, vm_treefile};

pub const REF: &str = "mxos/10/x86_64/vm";

/// The machines' kernel arguments, on the disk image and the installer stick alike.
const KARGS: [&str; 7] = [
    "console=ttyS0,115200",
    "rd.emergency=reboot",
    "rd.shell=0",
    "panic=5",
    // Debian's kernels build SELinux in but start AppArmor unless told.
    "security=selinux",
    "selinux=1",
    "sysctl.kernel.printk_ratelimit=0",
];

const STEP_1: &str = r#"
say booted=$(booted)
if touch /usr/.rw-probe 2>/dev/null; then say usr_ro=no; else say usr_ro=yes; fi
say var_source=$(findmnt -n -o SOURCE /var)
. /etc/locale.conf; say lang=$LANG
say tz=$(readlink /etc/localtime)
. /usr/lib/os-release; say os_name=$NAME
LANG=es_MX.UTF-8 mxos-update status | prefixed status
say package=$(dpkg-query -W -f '${Package}_${Version}_${Status}' mxos-update | tr ' ' '-')
MANWIDTH=300 LC_ALL=C.UTF-8 man -P cat mxos-update > /run/mxos-vmtest-man.txt 2>&1
head -4 /run/mxos-vmtest-man.txt | prefixed man
say man_name=$(sed -n '/^NAME/{n;p;q}' /run/mxos-vmtest-man.txt | tr -s ' ' | sed 's/^ //')
MANWIDTH=300 LC_ALL=C.UTF-8 man -L es -P cat mxos-update > /run/mxos-vmtest-man-es.txt 2>&1
say man_nombre=$(sed -n '/^NOMBRE/{n;p;q}' /run/mxos-vmtest-man-es.txt | tr -s ' ' | sed 's/^ //')
say enforce=$(getenforce)
say label_bash=$(stat -c %C /usr/bin/bash)
say label_passwd=$(stat -c %C /etc/passwd)
say label_locale=$(stat -c %C /etc/locale.conf)
say completion=$(bash -c '. /usr/share/bash-completion/bash_completion
    _completion_loader mxos-update
    f=$(complete -p mxos-update | sed "s/.* -F \([^ ]*\) .*/\1/")
    COMP_WORDS=(mxos-update sta); COMP_CWORD=1; COMP_LINE="mxos-update sta"; COMP_POINT=15
    $f mxos-update sta mxos-update
    echo "$f:${COMPREPLY[*]}"' 2>&1)
journalctl -b -t mxos-update --no-pager -o cat | prefixed journal
say journal_lines=$(journalctl -b -t mxos-update --no-pager -o cat | wc -l)
echo "aula 3, equipo 7" > /etc/mxos-nota
out=$(mxos-update upgrade 2>&1); rc=$?
echo "$out" | prefixed upgrade
say upgrade_rc=$rc
ostree admin status | prefixed ostree
"#;

const STEP_2: &str = r#"
say booted=$(booted)
# What libostree said while it finalized the staged deployment at the last shutdown.
journalctl -b -1 -u ostree-finalize-staged.service --no-pager -o cat | prefixed finalize
say nota=$(cat /etc/mxos-nota)
journalctl -b -t mxos-update --no-pager -o cat | prefixed journal
say enforce=$(getenforce)
say healthy_commit=$(journalctl -b -t mxos-update MXOS_DECISION=healthy -o json --no-pager \
    | sed -n 's/.*"MXOS_COMMIT":"\([0-9a-f]*\)".*/\1/p' | tail -1)
mxos-update status --json | tr -d ' \n' | prefixed json
echo
# Under systemd, as the timer runs it: the rollback's event reaches the journal with its id.
out=$(systemd-run --wait --collect --quiet mxos-update rollback 2>&1); rc=$?
echo "$out" | prefixed rollback
say rollback_rc=$rc
journalctl --sync
journalctl -t mxos-update MESSAGE_ID=8d3a91f0e47b4c2d8e5f6a7b9c0d1e02 -o json --no-pager | tail -1 > /run/mxos-rb.json
say rollback_event_commit=$(sed -n 's/.*"MXOS_COMMIT":"\([0-9a-f]*\)".*/\1/p' /run/mxos-rb.json)
say rollback_event_reason=$(sed -n 's/.*"MXOS_REASON":"\([a-z-]*\)".*/\1/p' /run/mxos-rb.json)
journalctl -b -t mxos-update --no-pager -o cat | tail -3 | prefixed journal2
"#;

const STEP_3: &str = r#"
say booted=$(booted)
say enforce=$(getenforce)
mxos-update status | prefixed status
# v2 staged again, then held back at shutdown with libostree's own switch (what
# `ostree admin deploy --lock-finalization` sets): an update lost as a failed finalization
# loses it. The next boot's health check must call that trial off.
out=$(mxos-update upgrade 2>&1); rc=$?
echo "$out" | prefixed restage
say restage_rc=$rc
touch /run/ostree/staged-deployment-locked
"#;

/// Secure Boot's state as the firmware reports it (the variable's fifth byte: 1 = on), what
/// the kernel says of it, and the partition the firmware booted from.
const UEFI_FACTS: &str = r#"
say efi=$(test -d /sys/firmware/efi && echo yes || echo no)
say secure_boot=$(od -An -t u1 -j 4 -N 1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | tr -d ' ')
journalctl -k -b --no-pager -o cat | grep -i 'secure boot' | prefixed kernel
"#;

/// The UEFI machine's first boot: upgrade to what the host published.
const STEP_UEFI_1: &str = r#"
say booted=$(booted)
out=$(mxos-update upgrade 2>&1); rc=$?
echo "$out" | prefixed upgrade
say upgrade_rc=$rc
"#;

/// The UEFI machine on the update: roll back by hand.
const STEP_UEFI_2: &str = r#"
say booted=$(booted)
say tries=$(tr -d '#' < /boot/grub2/grubenv | sed -n 's/^mxos_boot_tries=//p')
journalctl -b -u ostree-finalize-staged.service -b -1 --no-pager -o cat | tail -3 | prefixed finalize
out=$(mxos-update rollback 2>&1); rc=$?
echo "$out" | prefixed rollback
say rollback_rc=$rc
"#;

/// Installs the next version (whatever the host published) and powers off.
const STEP_UPGRADE: &str = r#"
say booted=$(booted)
journalctl -b -t mxos-update --no-pager -o cat | prefixed journal
say tries_before=$(tr -d '#' < /boot/grub2/grubenv | sed -n 's/^mxos_boot_tries=//p')
say not_finalized=$(journalctl -b -t mxos-update MESSAGE_ID=e1b7d40c9a2f4c6b8d3e5f7a9b1c2d04 -o json --no-pager \
    | sed -n 's/.*"MXOS_COMMIT":"\([0-9a-f]*\)".*/\1/p' | tail -1)
out=$(mxos-update upgrade 2>&1); rc=$?
echo "$out" | prefixed upgrade
say upgrade_rc=$rc
say tries=$(tr -d '#' < /boot/grub2/grubenv | sed -n 's/^mxos_boot_tries=//p')
"#;

/// Runs on a machine that should be back on the good version by itself.
const STEP_REPORT: &str = r#"
say booted=$(booted)
say default=$(ostree admin status | sed -n '1s/^[* ] mxos \([0-9a-f]\{64\}\).*/\1/p')
say tries=$(tr -d '#' < /boot/grub2/grubenv | sed -n 's/^mxos_boot_tries=//p')
journalctl -b -u mxos-health.service --no-pager -o cat | prefixed health
"#;

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

#[test]
#[ignore = "boots VMs for minutes; run by `cargo xtask vm-test`"]
fn composed_commit_boots_upgrades_and_rolls_back_in_qemu() {
    let all = Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("mxos-vm-")
        .tempdir_in("/var/tmp")
        .unwrap();
    // MXOS_VM_KEEP=1 keeps the disk, repos and keys for whoever debugs a failure by hand.
    let (_cleanup, t) = if std::env::var_os("MXOS_VM_KEEP").is_some() {
        let path = tmp.keep();
        eprintln!("vm-test: keeping {}", path.display());
        (None, path)
    } else {
        let path = tmp.path().to_owned();
        (Some(tmp), path)
    };
    let t = t.as_path();
    let (build, public) = (t.join("build"), t.join("public"));
    fs::create_dir_all(&public).unwrap();
    compose(&["keygen", &s(&t.join("mxos"))]);
    let key = s(&t.join("mxos.secret"));
    let overlays = overlays_with_vmtest(t);
    let start = Instant::now();
    let apt_repo = package_repo(t);
    let packaging = start.elapsed();

    let start = Instant::now();
    let v1 = committed(&compose(&[
        "tree",
        &s(&vm_treefile(&t.join("tf"), 1, &apt_repo)),
        "--repo",
        &s(&build),
        "--sign-key",
        &key,
        "--overlays",
        &s(&overlays),
    ]));
    let compose_v1 = start.elapsed();
    // The package's postinst applies its preset: the health check is wanted at boot and
    // required by boot-complete.target, which boot counting waits for.
    for link in ["multi-user.target.wants", "boot-complete.target.requires"] {
        let path = format!("/usr/etc/systemd/system/{link}/mxos-health.service");
        let out = ostree(&["--repo", &s(&build), "ls", &v1, &path]);
        assert!(
            out.trim_end()
                .ends_with("/systemd/system/mxos-health.service"),
            "{path} in v1: {out}"
        );
    }
    let nginx = mxos_tests::Nginx::serve(&public).unwrap();
    let url = format!("http://10.0.2.2:{}", nginx.port);
    compose(&[
        "publish",
        "--repo",
        &s(&build),
        "--to",
        &s(&public),
        "--sign-key",
        &key,
        "--url",
        &url,
    ]);

    let disk = t.join("mxos.qcow2");
    let start = Instant::now();
    let mut disk_args = vec![
        "disk".to_owned(),
        REF.to_owned(),
        "--repo".to_owned(),
        s(&build),
        "--to".to_owned(),
        s(&disk),
        "--size-mib".to_owned(),
        "3072".to_owned(),
        "--remote-conf".to_owned(),
        s(&public.join("mxos.conf")),
    ];
    for k in KARGS {
        disk_args.extend(["--karg".to_owned(), k.to_owned()]);
    }
    let out = compose(&disk_args.iter().map(String::as_str).collect::<Vec<_>>());
    let disk_time = start.elapsed();
    assert!(
        out.starts_with(&format!("wrote {} (", disk.display())) && out.contains(&v1),
        "{out}"
    );
    let image_size = fs::metadata(&disk).unwrap().len();

    let start = Instant::now();
    let v2 = committed(&compose(&[
        "tree",
        &s(&vm_treefile(&t.join("tf"), 2, &apt_repo)),
        "--repo",
        &s(&build),
        "--sign-key",
        &key,
        "--overlays",
        &s(&overlays),
    ]));
    let compose_v2 = start.elapsed();
    // Unchanged inputs (plan, overlays, the mirror's InRelease): no bootstrap, no commit.
    let start = Instant::now();
    let again = compose(&[
        "tree",
        &s(&vm_treefile(&t.join("tf"), 2, &apt_repo)),
        "--repo",
        &s(&build),
        "--sign-key",
        &key,
        "--overlays",
        &s(&overlays),
    ]);
    let noop = start.elapsed();
    assert_eq!(again, format!("no changes since {v2} ({REF})\n"));
    assert_ne!(v1, v2);
    compose(&[
        "publish",
        "--repo",
        &s(&build),
        "--to",
        &s(&public),
        "--sign-key",
        &key,
        "--url",
        &url,
    ]);

    // Console logs outlive the test's temporary directory, for whoever debugs a failure.
    let logs = workspace().join("target/vm-test");
    fs::remove_dir_all(&logs).ok();
    fs::create_dir_all(&logs).unwrap();
    // One image, two machines: each boots a qcow2 overlay of what `disk` wrote.
    let vm = Vm {
        disk: vm_machine::overlay(&disk, &t.join("bios.qcow2")),
        dir: logs.clone(),
        uefi_vars: None,
        extra_args: Vec::new(),
    };
    let uefi_vars = t.join("uefi-vars.fd");
    fs::copy(vm_machine::OVMF_VARS, &uefi_vars).unwrap();
    let uefi = Vm {
        disk: vm_machine::overlay(&disk, &t.join("uefi.qcow2")),
        dir: logs,
        uefi_vars: Some(uefi_vars),
        extra_args: Vec::new(),
    };

    // A UEFI PC with Secure Boot on: the firmware runs the tree's shim, shim the tree's
    // GRUB, GRUB the signed kernel; then upgrade, reboot, roll back, reboot as on BIOS.
    let facts = |k: &std::collections::BTreeMap<String, String>, text: &str, n: u32| {
        assert_eq!(
            (k["efi"].as_str(), k["secure_boot"].as_str()),
            ("yes", "1"),
            "UEFI boot {n} with Secure Boot on: {}",
            tail(text, 40)
        );
    };
    let (k, uefi1, text) = uefi.boot(31, &format!("{UEFI_FACTS}{STEP_UEFI_1}"));
    facts(&k, &text, 31);
    assert_eq!(k["booted"], v1, "UEFI boot 1 runs v1");
    assert_eq!(k["upgrade_rc"], "0", "{}", tail(&text, 30));
    let (k, _, text) = uefi.boot(32, &format!("{UEFI_FACTS}{STEP_UEFI_2}{AVC_REPORT}"));
    let mut denials = vec![avc_report(32, &k, &text)];
    facts(&k, &text, 32);
    assert_eq!(k["booted"], v2, "UEFI boot 2 runs v2: {}", tail(&text, 40));
    assert_eq!(k["rollback_rc"], "0", "{}", tail(&text, 30));
    let (k, _, text) = uefi.boot(33, &format!("{UEFI_FACTS}{STEP_REPORT}"));
    facts(&k, &text, 33);
    assert_eq!(
        (k["booted"].as_str(), k["default"].as_str()),
        (v1.as_str(), v1.as_str()),
        "UEFI boot 3 runs v1 after the rollback: {}",
        tail(&text, 40)
    );
    let uefi_kernel_line = text
        .lines()
        .find(|l| l.contains("MXOS-VMTEST kernel: "))
        .map(|l| {
            l.split("MXOS-VMTEST kernel: ")
                .nth(1)
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    let (k, boot1, text) = vm.boot(1, &format!("{STEP_1}{AVC_REPORT}"));
    denials.push(avc_report(1, &k, &text));
    assert_eq!(k["booted"], v1, "boot 1 runs v1");
    assert_eq!(k["usr_ro"], "yes", "/usr is read-only");
    // /var is the stateroot's, shared by every deployment (ostree-system-generator's bind
    // mount), not the deployment's own empty directory.
    assert!(
        k["var_source"].ends_with("[/ostree/deploy/mxos/var]"),
        "/var is mounted from {}: {}",
        k["var_source"],
        tail(&text, 40)
    );
    assert_eq!(k["lang"], "es_MX.UTF-8");
    assert_eq!(k["tz"], "../usr/share/zoneinfo/America/Mexico_City");
    assert_eq!(k["os_name"], "MxOS");
    assert!(
        text.contains("MXOS-VMTEST status: ● 10.") && text.contains("[predeterminada, en uso]"),
        "{}",
        tail(&text, 40)
    );
    assert_eq!(
        k["package"],
        format!(
            "mxos-update_{}_install-ok-installed",
            env!("CARGO_PKG_VERSION")
        ),
        "the agent is the installed package: {}",
        tail(&text, 40)
    );
    assert!(
        k["man_name"].starts_with("mxos-update - Atomic, verified MxOS updates"),
        "man mxos-update: {}",
        tail(&text, 40)
    );
    assert_eq!(
        k["man_nombre"],
        "mxos-update - Actualizaciones atómicas y verificadas de MxOS",
        "man -L es mxos-update: {}",
        tail(&text, 40)
    );
    // SELinux: the policy is loaded and the files carry the labels the commit gave them.
    assert_eq!(k["enforce"], "Enforcing", "{}", tail(&text, 40));
    // The policy store travels in the commit's /etc, where libostree's finalization finds it.
    let semanage = ostree(&[
        "--repo",
        &s(&build),
        "cat",
        &v1,
        "/usr/etc/selinux/semanage.conf",
    ]);
    assert!(
        semanage.ends_with("\nstore-root=/etc/selinux\n"),
        "{semanage}"
    );
    ostree(&[
        "--repo",
        &s(&build),
        "ls",
        &v1,
        "/usr/etc/selinux/default/active/modules",
    ]);
    let committed_label = |path: &str| {
        let line = ostree(&["--repo", &s(&build), "ls", "-X", &v1, path]);
        line.split("b'security.selinux', b'")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap_or_else(|| panic!("{path} is not labelled in v1: {line}"))
            .to_owned()
    };
    for (key, path, expected) in [
        (
            "label_bash",
            "/usr/bin/bash",
            "system_u:object_r:shell_exec_t:s0",
        ),
        (
            "label_passwd",
            "/usr/etc/passwd",
            // Debian's reference policy gives /etc/passwd the generic etc_t.
            "system_u:object_r:etc_t:s0",
        ),
        (
            "label_locale",
            "/usr/etc/locale.conf",
            "system_u:object_r:etc_t:s0",
        ),
    ] {
        let label = committed_label(path);
        assert_eq!(label, expected, "{path} in the commit");
        assert_eq!(
            k[key],
            label,
            "{path} on the running machine: {}",
            tail(&text, 40)
        );
    }
    assert_eq!(
        k["completion"],
        "_mxos__update:status",
        "bash completes `mxos-update sta`: {}",
        tail(&text, 40)
    );
    // mxos-health.service ran the packaged agent under systemd before the step: nothing is
    // on trial on the first boot, and its answer is in the journal under the tool's name.
    assert!(
        text.contains("MXOS-VMTEST journal: No hay ninguna versión nueva en prueba."),
        "journalctl -t mxos-update (lines: {}): {}",
        k["journal_lines"],
        tail(&text, 40)
    );
    assert_eq!(k["upgrade_rc"], "0", "{}", tail(&text, 40));
    assert!(
        text.contains(&format!("MXOS-VMTEST ostree:   mxos {v2}.0 (staged)")),
        "v2 is staged: {}",
        tail(&text, 40)
    );

    let (k, boot2, text) = vm.boot(2, &format!("{STEP_2}{AVC_REPORT}"));
    denials.push(avc_report(2, &k, &text));
    let finalize: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("MXOS-VMTEST finalize: "))
        .collect();
    assert_eq!(
        k["booted"],
        v2,
        "boot 2 runs v2; ostree-finalize-staged at the shutdown before:\n{}\nconsole: {}",
        finalize.join("\n"),
        tail(&text, 40)
    );
    assert_eq!(
        k["nota"], "aula 3, equipo 7",
        "the user's /etc change survived"
    );
    let json_line = text
        .lines()
        .find_map(|l| l.split("MXOS-VMTEST json: ").nth(1))
        .unwrap()
        .trim_end_matches('\r');
    let json: serde_json::Value = serde_json::from_str(json_line).unwrap();
    let order: Vec<&str> = json["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec![v2.as_str(), v1.as_str()], "v1 kept as rollback");
    assert!(
        text.contains(&format!(
            "MXOS-VMTEST journal: La versión {} pasó las revisiones de salud.",
            &v2[..12]
        )),
        "the packaged health check passed v2: {}",
        tail(&text, 40)
    );
    assert_eq!(k["rollback_rc"], "0", "{}", tail(&text, 40));
    assert_eq!(k["enforce"], "Enforcing");
    assert_eq!(
        k["healthy_commit"],
        v2,
        "the health check's decision in the journal names v2: {}",
        tail(&text, 40)
    );
    assert_eq!(
        (
            k["rollback_event_commit"].as_str(),
            k["rollback_event_reason"].as_str()
        ),
        (v1.as_str(), "by-hand"),
        "journalctl MESSAGE_ID=<rollback>: {}",
        tail(&text, 40)
    );

    let (k, boot3, text) = vm.boot(3, STEP_3);
    assert_eq!(
        k["booted"],
        v1,
        "boot 3 runs v1 after the rollback: {}",
        tail(&text, 40)
    );

    // A release whose health check fails: the machine must come back to v1 by itself.
    let bad_health = bad_release(
        t,
        &v1,
        "salud-mala",
        &[(
            "usr/lib/mxos/health.d/50-aula",
            b"#!/bin/sh\necho 'prueba: el servicio del aula no responde' >&2\nexit 1\n",
            0o755,
        )],
        &key,
        &url,
    );
    assert_eq!(k["restage_rc"], "0", "{}", tail(&text, 30));
    let (k, _, text) = vm.boot(4, STEP_UPGRADE);
    assert_eq!(k["booted"], v1);
    // The v2 staged in boot 3 never became a deployment: the health check said so and
    // called the trial off, so GRUB does not count v1's boots against it.
    assert!(
        text.contains(&format!(
            "MXOS-VMTEST journal: La actualización {} no se instaló al apagar el equipo",
            &v2[..12]
        )),
        "{}",
        tail(&text, 30)
    );
    assert_eq!(k["not_finalized"], v2, "{}", tail(&text, 30));
    assert_eq!(
        k["tries_before"],
        "",
        "trial called off: {}",
        tail(&text, 30)
    );
    assert_eq!(k["upgrade_rc"], "0", "{}", tail(&text, 30));
    assert_eq!(k["tries"], "3", "the new version is on trial with 3 boots");
    let (text5, _) = vm.boot_unattended(5);
    assert!(
        text5.contains("50-aula: código de salida: 1: prueba: el servicio del aula no responde"),
        "{}",
        tail(&text5, 40)
    );
    let (k, _, text) = vm.boot(6, STEP_REPORT);
    assert_eq!(
        k["booted"],
        v1,
        "back on v1 after the failed health check: {}",
        tail(&text, 30)
    );
    assert_eq!(k["default"], v1);
    assert_eq!(k.get("tries").map(String::as_str), Some(""), "trial over");
    assert_ne!(bad_health, v1);

    // A release that cannot even boot (broken initramfs): GRUB's boot counting returns to v1.
    let kver = ostree(&["--repo", &s(&build), "ls", &v1, "/usr/lib/modules"])
        .lines()
        .filter_map(|l| l.split('/').next_back().map(str::to_owned))
        .find(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap();
    let initramfs = format!("usr/lib/modules/{kver}/initramfs.img");
    bad_release(
        t,
        &v1,
        "no-arranca",
        &[(initramfs.as_str(), b"esto no es un initramfs", 0o644)],
        &key,
        &url,
    );
    let (k, _, text) = vm.boot(7, STEP_UPGRADE);
    assert_eq!(k["upgrade_rc"], "0", "{}", tail(&text, 30));
    let (failed, k, text) = boot_until_fallback(&vm, 8);
    assert_eq!(failed, 3, "three tries, then the previous version");
    assert_eq!(
        k["booted"],
        v1,
        "boot counting brought back v1: {}",
        tail(&text, 30)
    );
    assert_eq!(k["default"], v1, "and made it the default again");

    // The same on the UEFI machine: GRUB counts boots in the same environment block under
    // Secure Boot.
    let (k, _, text) = uefi.boot(34, &format!("{UEFI_FACTS}{STEP_UPGRADE}"));
    facts(&k, &text, 34);
    assert_eq!(k["upgrade_rc"], "0", "{}", tail(&text, 30));
    let (failed, k, text) = boot_until_fallback(&uefi, 35);
    assert_eq!(failed, 3, "UEFI: three tries, then the previous version");
    assert_eq!(
        (k["booted"].as_str(), k["default"].as_str()),
        (v1.as_str(), v1.as_str()),
        "UEFI: boot counting brought back v1: {}",
        tail(&text, 30)
    );

    // A lab: one USB stick installs v2 on a machine, which then follows the school's channel.
    let (lab, lab_denials) = vm_install::lab(
        t,
        &workspace().join("target/vm-test"),
        &build,
        &public,
        &key,
        REF,
        &v2,
        &KARGS,
        UEFI_FACTS,
    );
    denials.push(lab_denials);
    drop(nginx);

    eprintln!(
        "vm-test figures: .deb and apt repo {:.1} s, compose v1 {:.0} s, compose v2 {:.0} s, no-op recompose {:.1} s, disk image {:.1} s ({} MiB qcow2), boots {:.0} s / {:.0} s / {:.0} s, first UEFI Secure Boot boot {:.0} s (kernel: {uefi_kernel_line}), installer stick {} MiB qcow2 built in {:.0} s, install of one machine (stick boot to power-off, UEFI) {:.0} s, installed machine's first boot {:.0} s, whole test {:.0} s",
        packaging.as_secs_f64(), compose_v1.as_secs_f64(), compose_v2.as_secs_f64(), noop.as_secs_f64(), disk_time.as_secs_f64(), image_size >> 20,
        boot1.as_secs_f64(), boot2.as_secs_f64(), boot3.as_secs_f64(), uefi1.as_secs_f64(), lab.stick_mib, lab.stick_build.as_secs_f64(), lab.install.as_secs_f64(), lab.installed_boot.as_secs_f64(), all.elapsed().as_secs_f64(),
    );
    // Enforcing with no denial at all: the reference policy plus the tree's local module
    // cover everything the machine did, v1 and v2, BIOS and UEFI. Checked last so that a
    // denial does not hide what the later boots would have shown.
    let denied: Vec<&String> = denials.iter().filter(|d| !d.is_empty()).collect();
    assert!(
        denied.is_empty(),
        "AVC denials while enforcing:\n{}",
        denied
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Boots `vm`, which has just installed a release that cannot boot, until GRUB's boot
/// counting brings back the previous version: the number of failed boots, and the report of
/// the first boot that reached userspace. Boot numbers start at `first`.
fn boot_until_fallback(
    vm: &Vm,
    first: u32,
) -> (u32, std::collections::BTreeMap<String, String>, String) {
    let mut failed = 0;
    let (k, text) = loop {
        let n = first + failed;
        assert!(
            failed <= 4,
            "boot counting never fell back after {failed} failed boots"
        );
        let (text, _) = vm.boot_unattended(n);
        if text.contains("MXOS-VMTEST start") {
            // This boot reached userspace: ask it what runs now.
            let (k, _, text) = vm.boot(n + 1, STEP_REPORT);
            break (k, text);
        }
        assert!(
            text.contains("Kernel panic") || text.contains("Initramfs unpacking failed"),
            "boot {n}: {}",
            tail(&text, 20)
        );
        failed += 1;
    };
    (failed, k, text)
}
