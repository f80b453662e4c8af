//! Disk images without booting them: what is inside, and the faults that must leave no
//! half-written image (a full disk, a tree that cannot boot or update).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

const REF: &str = "mxos/10/x86_64/demo";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The demo tree (its test kernel is enough for libostree to deploy it), with or without
/// the `mx-boot` overlay, composed and published.
fn composed(t: &Path, with_boot: bool) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let gen1 = mxos_tests::shared_demo_repo(1).unwrap();
    let demo = demo_treefile(&t.join("tf"), &gen1, "");
    let tree = if with_boot {
        let p = t.join("tf/disk.yaml");
        fs::write(
            &p,
            format!("include: {}\noverlays: [mx-boot]\n", demo.display()),
        )
        .unwrap();
        p
    } else {
        demo
    };
    let (build, public) = (t.join("build"), t.join("public"));
    compose(&["keygen", &s(&t.join("k"))]);
    let key = s(&t.join("k.secret"));
    let c = committed(&compose_signed(&tree, &build, Path::new(&key)));
    publish(
        &build,
        &public,
        Path::new(&key),
        "http://mirror.escuela.invalid/mxos",
        &[],
    );
    (build, public.join("mxos.conf"), c)
}

/// Mounts the root of a `--firmware bios` image: after the 1 MiB gap and the 1 MiB BIOS
/// boot partition.
fn mount_image(raw: &Path, mnt: &Path) -> impl Drop {
    fs::create_dir_all(mnt).unwrap();
    let st = Command::new("mount")
        .arg("-o")
        .arg("loop,ro,offset=2097152")
        .arg(raw)
        .arg(mnt)
        .status()
        .unwrap();
    assert!(st.success());
    struct Umount(std::path::PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            Command::new("umount").arg(&self.0).status().ok();
        }
    }
    Umount(mnt.to_owned())
}

#[test]
fn raw_image_holds_the_deployment_its_remote_and_grub() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, conf, commit) = composed(t, true);
    let img = t.join("out/mxos.img");
    fs::create_dir_all(t.join("out")).unwrap();
    let out = compose(&[
        "disk",
        REF,
        "--firmware",
        "bios",
        "--repo",
        &s(&build),
        "--to",
        &s(&img),
        "--size-mib",
        "600",
        "--remote-conf",
        &s(&conf),
        "--karg",
        "console=ttyS0,115200",
    ]);
    assert!(
        out.starts_with(&format!("wrote {} (", img.display()))
            && out.ends_with(&format!("with commit {commit}\n")),
        "{out}"
    );
    assert_eq!(
        fs::read_dir(t.join("out")).unwrap().count(),
        1,
        "only the finished image remains"
    );
    assert_eq!(fs::metadata(&img).unwrap().len(), 600 << 20);

    let disk = fs::read(&img).unwrap();
    assert_eq!(&disk[510..512], &[0x55, 0xAA], "MBR signature");
    assert_eq!(disk[450], 0xEE, "a protective MBR: the disk is GPT");
    assert_eq!(&disk[512..520], b"EFI PART", "GPT header");
    let boot_img = fs::read("/usr/lib/grub/i386-pc/boot.img").unwrap();
    assert_eq!(
        &disk[..0x5c],
        &boot_img[..0x5c],
        "GRUB's boot code in the MBR"
    );
    assert_eq!(
        u64::from_le_bytes(disk[0x5c..0x64].try_into().unwrap()),
        2048,
        "boot.img loads core.img from the BIOS boot partition"
    );
    let core = 2048 * 512;
    assert_eq!(
        &disk[core..core + 4],
        &fs::read("/usr/lib/grub/i386-pc/diskboot.img").unwrap()[..4],
        "GRUB core image at the start of the BIOS boot partition"
    );
    assert_eq!(
        u64::from_le_bytes(disk[core + 500..core + 508].try_into().unwrap()),
        2049,
        "core.img's block list continues in the next sector"
    );
    let table = Command::new("sgdisk").arg("-p").arg(&img).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(
        table.contains("   1            2048            4095   1024.0 KiB  EF02  BIOS boot\n")
            && table.contains("   2            4096         1226751   597.0 MiB   8300  root\n"),
        "{table}"
    );

    let mnt = t.join("mnt");
    let _m = mount_image(&img, &mnt);
    let entries: Vec<_> = fs::read_dir(mnt.join("boot/loader/entries"))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1);
    let cfg = fs::read_to_string(mnt.join("boot/grub2/grub.cfg")).unwrap();
    let env = fs::read(mnt.join("boot/grub2/grubenv")).unwrap();
    assert_eq!(
        env.len(),
        1024,
        "GRUB needs an existing 1024-byte environment block"
    );
    assert!(env.starts_with(b"# GRUB Environment Block\n"));
    assert!(
        cfg.contains("load_env mxos_boot_tries"),
        "boot counting is in the config: {cfg}"
    );
    assert!(
        cfg.contains("menuentry 'MxOS 10 (ostree:0)'") || cfg.contains("menuentry 'MxOS 10"),
        "{cfg}"
    );
    assert!(
        cfg.contains("root=LABEL=mxos-root rw console=ttyS0,115200 ostree=/ostree/boot.1/mxos/"),
        "{cfg}"
    );
    let config = fs::read_to_string(mnt.join("ostree/repo/config")).unwrap();
    assert!(
        config.contains("url=http://mirror.escuela.invalid/mxos"),
        "{config}"
    );
    assert!(config.contains("verification-ed25519-key="), "{config}");
    let deployed = fs::read_dir(mnt.join("ostree/deploy/mxos/deploy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| !n.ends_with(".origin"))
        .unwrap();
    assert!(deployed.starts_with(&commit), "{deployed}");
    let origin =
        fs::read_to_string(mnt.join(format!("ostree/deploy/mxos/deploy/{deployed}.origin")))
            .unwrap();
    assert!(origin.contains(&format!("refspec=mxos:{REF}")), "{origin}");

    // The same as qcow2, reported as JSON: the numbers are what qemu-img sees.
    let qcow = t.join("out/mxos.qcow2");
    let report: serde_json::Value = serde_json::from_str(&compose(&[
        "--json",
        "disk",
        REF,
        "--firmware",
        "bios",
        "--repo",
        &s(&build),
        "--to",
        &s(&qcow),
        "--size-mib",
        "600",
        "--remote-conf",
        &s(&conf),
    ]))
    .unwrap();
    let info: serde_json::Value = serde_json::from_slice(
        &Command::new("qemu-img")
            .args(["info", "--output=json"])
            .arg(&qcow)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(info["format"], "qcow2");
    assert_eq!(
        report,
        serde_json::json!({
            "schema": "mxos-compose-disk/1",
            "path": s(&qcow),
            "format": "qcow2",
            "firmware": "bios",
            "commit": commit,
            "ref": REF,
            "size_bytes": 600u64 << 20,
            "allocated_bytes": info["actual-size"],
        })
    );
}

#[test]
fn a_full_disk_or_an_unbootable_tree_leaves_no_image() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, conf, _) = composed(t, true);
    let small = t.join("small");
    fs::create_dir_all(&small).unwrap();
    assert!(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&small)
        .status()
        .unwrap()
        .success());
    struct Umount(std::path::PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            Command::new("umount").arg(&self.0).status().ok();
        }
    }
    let _u = Umount(small.clone());
    let err = compose_fails(&[
        "disk",
        REF,
        "--firmware",
        "bios",
        "--repo",
        &s(&build),
        "--to",
        &s(&small.join("mxos.img")),
        "--size-mib",
        "600",
        "--remote-conf",
        &s(&conf),
    ]);
    assert!(
        err.contains(&format!(
            "\nerror: building disk image {}\n",
            small.join("mxos.img").display()
        )),
        "{err}"
    );
    assert!(
        err.contains("caused by: reserving 600 MiB for the image next to"),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(
        fs::read_dir(&small).unwrap().count(),
        0,
        "no partial image left behind"
    );

    let tmp2 = tempfile::tempdir().unwrap();
    let (build, conf, commit) = composed(tmp2.path(), false);
    let img = tmp2.path().join("x.img");
    let err = compose_fails(&[
        "disk",
        REF,
        "--firmware",
        "bios",
        "--repo",
        &s(&build),
        "--to",
        &s(&img),
        "--remote-conf",
        &s(&conf),
    ]);
    assert_eq!(err, format!("error: commit {commit} has no /usr/libexec/mxos/grub-bls-gen; add the `mx-boot` overlay to the treefile so the disk can boot and update\n"));
    assert!(!img.exists());
}

/// A tiny OS commit (the stock CLI) that can boot from a disk: the `mx-boot` overlay's
/// grub.cfg generator plus `files`.
fn bootable_commit(build: &Path, files: &[(&str, &[u8])]) -> String {
    let generator =
        fs::read(workspace().join("overlays/mx-boot/root/usr/libexec/mxos/grub-bls-gen")).unwrap();
    let mut all = vec![("usr/libexec/mxos/grub-bls-gen", generator.as_slice())];
    all.extend_from_slice(files);
    tiny_os_commit_with(build, REF, "10.1", "2026-11-01T00:00:00Z", &all)
}

/// A tree with the Debian layout of shim-signed, grub-efi-amd64-signed and
/// shim-helpers-amd64-signed (stand-in bytes: what matters here is where they land; vm-test
/// boots the real ones under Secure Boot), committed with the stock CLI.
fn efi_tree(t: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let build = t.join("build");
    let commit = bootable_commit(
        &build,
        &[
            (
                "usr/lib/shim/shimx64.efi.signed",
                b"shim signed by Microsoft",
            ),
            ("usr/lib/shim/mmx64.efi.signed", b"MokManager"),
            (
                "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
                b"GRUB signed by Debian",
            ),
        ],
    );
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
    (build, t.join("public/mxos.conf"), commit)
}

/// A file of the FAT file system at `offset` in `img`, read with mtools.
fn esp_file(img: &Path, offset: u64, path: &str) -> Vec<u8> {
    let out = Command::new("mtype")
        .arg("-i")
        .arg(format!("{}@@{offset}", img.display()))
        .arg(format!("::{path}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn uefi_image_boots_the_trees_shim_and_grub_from_its_esp() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (build, conf, commit) = efi_tree(t);
    let img = t.join("mxos.img");
    let report: serde_json::Value = serde_json::from_str(&compose(&[
        "--json",
        "disk",
        REF,
        "--repo",
        &s(&build),
        "--to",
        &s(&img),
        "--size-mib",
        "700",
        "--esp-mib",
        "40",
        "--remote-conf",
        &s(&conf),
    ]))
    .unwrap();
    assert_eq!(
        (report["firmware"].as_str(), report["commit"].as_str()),
        (Some("both"), Some(commit.as_str()))
    );
    let table = Command::new("sgdisk").arg("-p").arg(&img).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    for row in [
        "   1            2048            4095   1024.0 KiB  EF02  BIOS boot\n",
        "   2            4096           86015   40.0 MiB    EF00  EFI system\n",
        "   3           86016         1431551   657.0 MiB   8300  root\n",
    ] {
        assert!(table.contains(row), "{row:?} not in\n{table}");
    }
    let esp = 4096 * 512;
    assert_eq!(
        esp_file(&img, esp, "/EFI/BOOT/BOOTX64.EFI"),
        b"shim signed by Microsoft"
    );
    assert_eq!(
        esp_file(&img, esp, "/EFI/BOOT/grubx64.efi"),
        b"GRUB signed by Debian"
    );
    assert_eq!(esp_file(&img, esp, "/EFI/BOOT/mmx64.efi"), b"MokManager");
    let cfg =
        "# Written by mxos-compose disk: the menu lives on the root, for UEFI and BIOS alike.\n\
               search --no-floppy --label mxos-root --set=root\n\
               set prefix=($root)/boot/grub2\n\
               configfile $prefix/grub.cfg\n";
    for path in ["/EFI/BOOT/grub.cfg", "/EFI/debian/grub.cfg"] {
        assert_eq!(
            String::from_utf8(esp_file(&img, esp, path)).unwrap(),
            cfg,
            "{path}"
        );
    }

    // Partitions that do not fit, and a tree without a signed shim: refused, no image left.
    let small = t.join("small.img");
    let err = compose_fails(&[
        "disk",
        REF,
        "--repo",
        &s(&build),
        "--to",
        &s(&small),
        "--size-mib",
        "600",
        "--esp-mib",
        "100",
        "--remote-conf",
        &s(&conf),
    ]);
    assert_eq!(
        err,
        format!("error: the partitions do not fit in 600 MiB: BIOS boot 1 MiB + EFI system 100 MiB + root at least 512 MiB need 615 MiB with the partition tables; give a larger --size-mib or smaller partitions\n")
    );
    assert!(!small.exists());
    let plain = t.join("plain");
    let c = bootable_commit(&plain, &[]);
    let err = compose_fails(&[
        "disk",
        REF,
        "--repo",
        &s(&plain),
        "--to",
        &s(&small),
        "--firmware",
        "uefi",
        "--remote-conf",
        &s(&conf),
    ]);
    assert!(
        err.starts_with(&format!("error: commit {c} has no signed shim and GRUB for UEFI (looked for /usr/lib/shim/shimx64.efi.signed with /usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed, ")),
        "{err}"
    );
    assert!(err.ends_with("add shim-signed and grub-efi-amd64-signed (Debian) or shim-x64 and grub2-efi-x64 (CentOS) to the treefile's packages, or write a BIOS-only disk with --firmware bios\n"), "{err}");
    assert!(!small.exists());
}
