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

fn mount_image(raw: &Path, mnt: &Path) -> impl Drop {
    fs::create_dir_all(mnt).unwrap();
    let st = Command::new("mount")
        .arg("-o")
        .arg("loop,ro,offset=1048576")
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
    assert_eq!(disk[446], 0x80, "bootable partition");
    assert_eq!(
        &disk[512..516],
        &fs::read("/usr/lib/grub/i386-pc/diskboot.img").unwrap()[..4],
        "GRUB core image after the MBR"
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
