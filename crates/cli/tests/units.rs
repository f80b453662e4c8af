//! The systemd units ship as they are: `systemd-analyze verify` accepts them in a root
//! that has this build's mxos-update where the units expect it.

use std::path::Path;
use std::process::Command;

#[test]
fn systemd_analyze_verify_accepts_the_units() {
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../systemd-units");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let sys = root.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    // verify needs the targets the units refer to (sysinit, timers, boot-complete...).
    assert!(Command::new("cp")
        .args(["-a", "/lib/systemd/system/."])
        .arg(&sys)
        .status()
        .unwrap()
        .success());
    std::fs::copy(
        env!("CARGO_BIN_EXE_mxos-update"),
        root.join("usr/bin/mxos-update"),
    )
    .unwrap();
    let mut names = Vec::new();
    for e in std::fs::read_dir(&units).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, sys.join(p.file_name().unwrap())).unwrap();
        names.push(sys.join(p.file_name().unwrap()));
    }
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .args(&names)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // And it does catch a broken unit.
    std::fs::write(
        sys.join("mxos-update.service"),
        "[Service]\nExecStart=/usr/bin/no-such-mxos\n",
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .arg(sys.join("mxos-update.service"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Command /usr/bin/no-such-mxos is not executable"));
}
