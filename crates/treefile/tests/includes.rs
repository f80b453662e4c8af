//! rpm-ostree's include language: `arch-include`, `conditional-include` (files and keys
//! written in place), one variable map where the first definition wins, and each file once.

mod common;

use common::{load_err, write};
use mxos_treefile::{load, VarValue};

#[test]
fn arch_and_conditional_includes_follow_the_architecture_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "x86.yaml", "packages: [grub2-pc]\n");
    write(d, "arm.yaml", "packages: [grub2-efi-aa64]\n");
    write(d, "dev.yaml", "packages: [debug-tools]\n");
    write(d, "new.yaml", "packages: [dnf5]\n");
    write(d, "old.yaml", "packages: [dnf]\n");
    let top = write(
        d,
        "top.yaml",
        "ref: r/${stream}\nreleasever: 41\nvariables: {stream: next, prod: false}\n\
         arch-include:\n  x86_64: x86.yaml\n  aarch64: [arm.yaml]\n  s390x: missing-is-fine.yaml\n\
         conditional-include:\n\
         \x20 - if: prod == false\n    include: dev.yaml\n\
         \x20 - if: releasever >= 41\n    include: [new.yaml]\n\
         \x20 - if: releasever < 41\n    include: old.yaml\n\
         \x20 - if: [basearch == \"aarch64\", stream == \"next\"]\n    include:\n      packages: [arm-next]\n      units: [arm.service]\n",
    );
    let x86 = load(&top, "x86_64").unwrap();
    assert_eq!(x86.treefile.packages, ["debug-tools", "dnf5", "grub2-pc"]);
    assert_eq!(x86.reference(), Some("r/next"));
    let arm = load(&top, "aarch64").unwrap();
    assert_eq!(
        arm.treefile.packages,
        ["arm-next", "debug-tools", "dnf5", "grub2-efi-aa64"]
    );
    assert_eq!(arm.treefile.units, ["arm.service"]);
    assert_eq!(arm.variables["prod"], VarValue::Bool(false));
    assert_eq!(arm.variables["releasever"], VarValue::Number(41));
}

#[test]
fn the_including_file_s_variables_win_and_conditions_see_what_came_before() {
    // The shape of Fedora's atomic desktops: the variant file sets a variable that a
    // shared file two levels down tests, and the top file overrides a default.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "common.yaml",
        "variables: {bootable_container: true, variant: base}\nref: fedora/${variant}\n\
         conditional-include:\n  - if: bootable_container == false\n    include: classic.yaml\n\
         \x20 - if: variant == \"silverblue\"\n    include:\n      packages: [silverblue-release]\n",
    );
    write(d, "classic.yaml", "packages: [ostree-grub2]\n");
    write(
        d,
        "silverblue-common.yaml",
        "variables: {variant: silverblue}\ninclude: common.yaml\npackages: [gnome-shell]\n",
    );
    let top = write(
        d,
        "silverblue-ostree.yaml",
        "variables: {bootable_container: false}\ninclude: silverblue-common.yaml\n",
    );
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(plan.reference(), Some("fedora/silverblue"));
    assert_eq!(
        plan.treefile.packages,
        ["gnome-shell", "ostree-grub2", "silverblue-release"]
    );
    assert_eq!(plan.variables["bootable_container"], VarValue::Bool(false));
}

#[test]
fn a_file_s_conditions_cannot_see_variables_its_own_includes_define() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "vars.yaml", "variables: {stream: next}\n");
    let top = write(
        d,
        "top.yaml",
        "ref: r\ninclude: vars.yaml\nconditional-include:\n  - if: stream == \"next\"\n    include: vars.yaml\n",
    );
    assert_eq!(
        load_err(&top),
        format!(
            "{}:3:1: conditional-include[0]: undefined variable `stream`; defined: basearch",
            top.display()
        )
    );
}

#[test]
fn condition_mistakes_name_file_line_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let top = write(
        d,
        "top.yaml",
        "ref: r\nreleasever: stream10\nconditional-include:\n  - if: basearch == \"x86_64\"\n    include: {packages: [a]}\n  - if: releasever >= 10\n    include: x.yaml\n",
    );
    assert_eq!(
        load_err(&top),
        format!(
            "{}:3:1: conditional-include[1]: `releasever` is a string (\"stream10\") but is compared with a number (10)",
            top.display()
        )
    );
}

#[test]
fn keys_written_in_place_may_not_include_files() {
    let dir = tempfile::tempdir().unwrap();
    let top = write(
        dir.path(),
        "top.yaml",
        "ref: r\nconditional-include:\n  - if: basearch == \"x86_64\"\n    include:\n      include: other.yaml\n",
    );
    assert_eq!(
        load_err(&top),
        format!(
            "{}:2:1: conditional-include[0]: keys written in place cannot include other files; name the file in `include` instead",
            top.display()
        )
    );
}

#[test]
fn a_file_is_part_of_a_tree_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "shared.yaml", "packages: [a]\n");
    write(d, "a.yaml", "include: shared.yaml\n");
    let top = write(d, "top.yaml", "ref: r\ninclude: [a.yaml, shared.yaml]\n");
    assert_eq!(
        load_err(&top),
        format!(
            "{}: `shared.yaml` ({}) is already part of this tree; rpm-ostree allows each file once",
            top.display(),
            d.join("shared.yaml").display()
        )
    );
}

#[test]
fn includes_resolve_beside_a_symlink_and_through_parent_directories() {
    // fedora-bootc's layout: tier-1/manifest-tier-0.yaml -> ../tier-0/manifest.yaml, whose
    // own includes resolve in tier-1/, and tier-x includes ../tier-0/.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "tier-0/manifest.yaml",
        "include: kernel.yaml\npackages: [t0]\n",
    );
    write(d, "tier-0/kernel.yaml", "packages: [kernel]\n");
    write(d, "tier-1/kernel.yaml", "packages: [kernel-tier1]\n");
    std::os::unix::fs::symlink(
        "../tier-0/manifest.yaml",
        d.join("tier-1/manifest-tier-0.yaml"),
    )
    .unwrap();
    write(
        d,
        "tier-1/manifest.yaml",
        "include: [manifest-tier-0.yaml, ../tier-0/kernel.yaml]\n",
    );
    let top = write(d, "top.yaml", "include: tier-1/manifest.yaml\n");
    let plan = load(&top, "x86_64").unwrap();
    assert_eq!(plan.treefile.packages, ["kernel", "kernel-tier1", "t0"]);
}

#[test]
fn apt_sources_of_includes_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "base.yaml",
        "backend: apt\nsuite: bookworm\napt-sources: [\"deb https://d.mx/mxos bookworm main\"]\n",
    );
    let top = write(
        d,
        "top.yaml",
        "ref: r\ninclude: base.yaml\napt-sources: [\"deb [trusted=yes] file:///srv/repo ./\"]\n",
    );
    assert_eq!(
        load(&top, "x86_64").unwrap().treefile.apt_sources,
        [
            "deb https://d.mx/mxos bookworm main",
            "deb [trusted=yes] file:///srv/repo ./"
        ]
    );
}
